/**
 * The run lifecycle at library level, with the committed bundle and synthetic snapshots on
 * local files: identifyRun and planRun (identity, validation, tampering), scoreShard and
 * commitRun in this thread, runLocal end to end (attempts, duplicates across files, a model
 * that returns NaN, a second writer refused by the lease).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readParquetBytes, writeParquetTable } from '@churn/arrow-io';
import { loadBundle, writeBundle } from '@churn/model-bundle';
import { exportLogisticOnnx } from '@churn/model-trainer';
import { LocalObjectStore } from '@churn/object-store';
import { writeSynthDataset } from '@churn/synth-data';
import { churnErrorOf } from '@churn/testing';
import { acquireLease, parseRunManifest, queryScores, tableLayout } from '@churn/warehouse';
import { commitRun } from './run-committer';
import { identifyRun, parsePlan, planRun, type RunRequestInput } from './run-plan';
import { runLocal } from './local-runner';
import { createScoringContext, shardRunOf } from './scoring-context';
import { scoreShard } from './score-shard';

const BUNDLE = path.resolve(__dirname, '..', '..', '..', 'models', 'churn-mlp');
const AS_OF = '2026-04-01';
// Costs are kept to 6 decimals in the manifest (runCostOf), so expected costs are rounded alike.
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

describe('the run lifecycle', () => {
  const store = new LocalObjectStore();
  let dir: string;
  let data: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-lifecycle-'));
    data = path.join(dir, 'data');
    await writeSynthDataset(store, data, { customers: 3000, asOf: AS_OF, seed: 3, files: 2, rowGroupRows: 500 });
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** A run request with typed defaults; tests override what they vary. */
  const request = (overrides: Partial<RunRequestInput> = {}): RunRequestInput => ({
    dataset: data,
    model: BUNDLE,
    output: path.join(dir, 'scores'),
    execution: { device: 'cpu' },
    ...overrides,
  });

  describe('identifyRun', () => {
    it('derives one run id from the partition, bundle digest, output and settings', async () => {
      const base = await identifyRun(store, request());
      expect(base.runId).toMatch(new RegExp(`^churn-mlp-1\\.0\\.0_${AS_OF}_[0-9a-f]{12}$`));
      expect((await identifyRun(store, request())).runId).toBe(base.runId);
      // Execution settings do not change the output, so not the run.
      expect((await identifyRun(store, request({ execution: { device: 'auto', batchRows: 1000, concurrency: 3 } }))).runId).toBe(base.runId);
      const others = await Promise.all([
        identifyRun(store, request({ output: path.join(dir, 'other-scores') })),
        identifyRun(store, request({ overrides: { explain: { policy: 'all' } } })),
        identifyRun(store, request({ overrides: { maxBadRowFraction: 0.5 } })),
        identifyRun(store, request({ overrides: { shardRows: 1000 } })),
      ]);
      expect(new Set([base.runId, ...others.map((o) => o.runId)]).size).toBe(5);
      expect(base.identity.model.digest).toBe((await loadBundle(store, BUNDLE)).digest);
      expect(base.identity.partition.files.map((f) => f.uri.slice(-18))).toEqual(['part-00000.parquet', 'part-00001.parquet']);
      expect(base.identity.partition.files.every((f) => f.mtime !== undefined && f.size > 0)).toBe(true);
    });

    it('refuses bad settings before anything runs, naming the setting, not a flag', async () => {
      const band = await churnErrorOf(identifyRun(store, request({ overrides: { explain: { policy: 'band:hihg' } } })));
      expect(band).toMatchObject({ code: 'INVALID_ARGUMENT', settings: ['explain'] });
      expect(band.message).toMatch(/unknown risk band "hihg" \(this model's bands: low, medium, high\)/);
      const fraction = await churnErrorOf(identifyRun(store, request({ overrides: { maxBadRowFraction: 2 } })));
      expect(fraction.code).toBe('INVALID_ARGUMENT');
      expect(fraction.message).toMatch(/maxBadRowFraction/);
      expect(fraction.message).not.toMatch(/--/);
      const device = await churnErrorOf(identifyRun(store, request({ execution: { device: 'tpu' as 'cpu' } })));
      expect(device.code).toBe('INVALID_ARGUMENT');
    });
  });

  describe('planRun and parsePlan', () => {
    it('plans shards that cover every row, and a plan that crossed Redis must still give its run id', async () => {
      const { plan } = await planRun(store, request({ overrides: { shardRows: 1000 } }));
      expect(plan.shards.reduce((a, s) => a + s.rows, 0)).toBe(3000);
      expect(plan.partition.files.map((f) => f.rows)).toEqual([1500, 1500]);
      expect(parsePlan(JSON.parse(JSON.stringify(plan)), 'job x')).toEqual(plan);
      const forged = await churnErrorOf(() => parsePlan({ ...plan, output: '/tmp/elsewhere' }, 'job commit__x'));
      expect(forged.code).toBe('INVALID_ARGUMENT');
      expect(forged.message).toMatch(/^job commit__x: run id .* does not match its plan .*the payload was altered/);
    });
  });

  describe('scoreShard and commitRun', () => {
    it('score each shard into the staging, then publish exactly the planned rows', async () => {
      const output = path.join(dir, 'by-hand');
      const { plan, bundle } = await planRun(store, request({ output, overrides: { shardRows: 1000 } }));
      const ctx = await createScoringContext({ store, bundle, run: shardRunOf(plan, 1) });
      // The committed MLP's graph is a ReLU network: exact Shapley values walk it (dense-network.ts).
      expect([ctx.explain.network?.inputs, ctx.explain.network?.hidden]).toEqual([bundle.manifest.features.length, 48]);
      const progress: number[] = [];
      const outcomes = [];
      for (const shard of plan.shards) outcomes.push(await scoreShard(ctx, shard, (rows) => progress.push(rows)));
      await ctx.scorer.release();
      expect(progress.at(-1)).toBe(plan.shards.at(-1)!.rows);
      const staged = tableLayout(plan.output).staging(plan.runId).attempt(1);
      expect(readParquetBytes(await store.get(staged.partUri(0))).numRows).toBe(outcomes[0]!.rowsScored);

      const lease = await acquireLease(store, tableLayout(plan.output).partition(AS_OF, 'churn-mlp-1.0.0').leaseUri, { runId: plan.runId, attempt: 1 });
      const missing = await churnErrorOf(commitRun(plan, outcomes.slice(1), { store, bundle, attempt: 1, lease, startedAt: new Date() }));
      expect(missing.code).toBe('COMMIT_FAILED');
      expect(missing.message).toMatch(/has \d+ of \d+ shard results \(missing: 0\)/);
      // The committing process's price, for a plan that names none (the producer's setting).
      const { manifest } = await commitRun(plan, outcomes, { store, bundle, attempt: 1, lease, startedAt: new Date(), pricePerDeviceHour: 1 });
      expect(manifest.rowsRead).toBe(3000);
      expect(manifest.cost?.pricePerDeviceHour).toBe(1);
      // The manifest keeps costs to 6 decimals (a micro-unit of the price's currency).
      expect(manifest.cost?.total).toBe(round6(manifest.deviceSeconds! / 3600));
      expect(manifest.rowsScored + manifest.rowsQuarantined + manifest.rowsIneligible).toBe(3000);
      const counted = await queryScores(store, output, 'SELECT count(*) AS n, count(DISTINCT customer_id) AS d FROM scores');
      expect(counted.rows).toEqual([{ n: manifest.rowsScored, d: manifest.rowsScored }]);
    });
  });

  describe('runLocal', () => {
    it('numbers attempts, keeps the run id, and replaces the previous version', async () => {
      const output = path.join(dir, 'attempts');
      const first = await runLocal({ store, request: request({ output }) });
      const second = await runLocal({ store, request: request({ output }) });
      expect(second.runId).toBe(first.runId);
      expect([first.attempt, second.attempt]).toEqual([1, 2]);
      expect(second.replaced).toMatchObject({ runId: first.runId, attempt: 1 });
      const runs = await queryScores(store, output, 'SELECT DISTINCT run_id FROM scores');
      expect(runs.rows).toEqual([{ run_id: first.runId }]);
      expect(await store.list(pathToFileURL(path.join(output, '_temporary')).href + '/')).toEqual([]);
    });

    it('records CPU- and device-seconds per shard and for the run, and the cost at a price per device-hour, in the same run', async () => {
      const output = path.join(dir, 'cost');
      const free = await runLocal({ store, request: request({ output, overrides: { shardRows: 1000 }, execution: { device: 'cpu', concurrency: 2 } }) });
      expect(free.cost).toBeUndefined();
      const priced = await runLocal({ store, request: request({ output, overrides: { shardRows: 1000 }, execution: { device: 'cpu', concurrency: 2, pricePerDeviceHour: 2.5 } }) });
      // An execution setting: the same run, a new attempt.
      expect(priced.runId).toBe(free.runId);
      expect(priced.attempt).toBe(2);
      const manifest = parseRunManifest(new TextDecoder().decode(await store.get(priced.manifest)), priced.manifest);
      expect(manifest.shards.length).toBeGreaterThan(1);
      for (const shard of manifest.shards) {
        // Two shards at once share the device: each is charged half its wall time.
        expect(shard.deviceMs).toBeCloseTo(shard.timingsMs['totalMs']! / 2, 0);
        expect(shard.deviceMs).toBeGreaterThan(0);
      }
      const deviceMs = manifest.shards.reduce((a, s) => a + s.deviceMs!, 0);
      expect(manifest.deviceSeconds).toBeCloseTo(deviceMs / 1000, 2);
      expect(manifest.cpuSeconds).toBeCloseTo(manifest.shards.reduce((a, s) => a + s.cpuMs, 0) / 1000, 2);
      const total = (manifest.deviceSeconds! / 3600) * 2.5;
      expect(manifest.cost).toEqual({ pricePerDeviceHour: 2.5, total: round6(total), perMillionRows: round6((total * 1e6) / 3000) });
      expect(priced).toMatchObject({ deviceSeconds: manifest.deviceSeconds, cost: manifest.cost, cpuSeconds: manifest.cpuSeconds });
    });

    it('quarantines every copy of an id that two files share, whatever the sharding', async () => {
      const dupData = path.join(dir, 'dup-data');
      await writeSynthDataset(store, dupData, { customers: 2000, asOf: AS_OF, seed: 4, files: 2, rowGroupRows: 250 });
      // A third file repeats 10 customers of the first, as a re-export gone wrong would.
      const first = readParquetBytes(await fs.readFile(path.join(dupData, `as_of=${AS_OF}`, 'part-00000.parquet')));
      await fs.writeFile(path.join(dupData, `as_of=${AS_OF}`, 'part-00002.parquet'), writeParquetTable(first.slice(0, 10)));
      // Spark leftovers in the partition are not input.
      await fs.mkdir(path.join(dupData, `as_of=${AS_OF}`, '_temporary', '0', '_temporary', 'attempt_1'), { recursive: true });
      await fs.copyFile(path.join(dupData, `as_of=${AS_OF}`, 'part-00001.parquet'), path.join(dupData, `as_of=${AS_OF}`, '_temporary', '0', '_temporary', 'attempt_1', 'part-00001.parquet'));
      for (const shardRows of [250, 100_000]) {
        const output = path.join(dir, `dups-${shardRows}`);
        const summary = await runLocal({ store, request: request({ dataset: dupData, output, overrides: { shardRows } }) });
        expect(summary.rowsRead).toBe(2010);
        expect(summary.duplicates).toEqual({ ids: 10, rows: 20 });
        expect(summary.quarantineReasons['duplicate_id']).toBe(20);
        const counted = await queryScores(store, output, "SELECT count(*) AS n, count(DISTINCT customer_id) AS d, (SELECT count(*) FROM quarantine WHERE reason_code = 'duplicate_id') AS q FROM scores");
        expect(counted.rows).toEqual([{ n: summary.rowsScored, d: summary.rowsScored, q: 20 }]);
      }
    });

    it('never writes a score that is not a probability: NaN output is quarantined as model_output_invalid', async () => {
      const bundle = await loadBundle(store, BUNDLE);
      const nanBundle = path.join(dir, 'nan-bundle');
      const { model, ...rest } = bundle.manifest;
      const { sha256: _sha, ...modelSection } = model;
      const width = bundle.manifest.features.length;
      await writeBundle(store, nanBundle, { ...rest, version: '9.9.9-nan', model: modelSection }, exportLogisticOnnx({ kind: 'logistic', inputs: width, w: new Float32Array(width), b: Number.NaN }));
      const refused = await churnErrorOf(runLocal({ store, request: request({ model: nanBundle, output: path.join(dir, 'nan') }) }));
      expect(refused.code).toBe('INVALID_MODEL_OUTPUT');
      expect(refused.settings).toEqual(['maxBadRowFraction']);
      const lenient = await runLocal({ store, request: request({ model: nanBundle, output: path.join(dir, 'nan'), overrides: { maxBadRowFraction: 1 } }) });
      expect(lenient.rowsScored).toBe(0);
      expect(lenient.quarantineReasons['model_output_invalid']).toBe(lenient.rowsQuarantined);
      const scores = await queryScores(store, path.join(dir, 'nan'), "SELECT (SELECT count(*) FROM scores) AS n, (SELECT count(*) FROM quarantine WHERE reason_code = 'model_output_invalid') AS q");
      expect(scores.rows).toEqual([{ n: 0, q: lenient.rowsQuarantined }]);
    });

    it('refuses a second writer of the same partition while the first holds its lease', async () => {
      const output = path.join(dir, 'locked');
      const other = await identifyRun(store, request({ output, overrides: { explain: { policy: 'none' } } }));
      const layout = tableLayout(other.identity.output).partition(AS_OF, 'churn-mlp-1.0.0');
      const held = await acquireLease(store, layout.leaseUri, { runId: other.runId, attempt: 1, timeoutMs: 60_000 });
      const refused = await churnErrorOf(runLocal({ store, request: request({ output }) }));
      expect(refused.code).toBe('PARTITION_LOCKED');
      expect(refused.message).toContain(other.runId);
      await held.release();
      await expect(runLocal({ store, request: request({ output }) })).resolves.toMatchObject({ attempt: 1 });
    });
  });
});
