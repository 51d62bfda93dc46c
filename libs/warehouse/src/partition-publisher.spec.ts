import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Utf8, tableFromArrays, vectorFromArray } from 'apache-arrow';
import { readParquetBytes, writeParquetTable } from '@churn/arrow-io';
import { LocalObjectStore, type ObjectStore } from '@churn/object-store';
import { churnErrorOf } from '@churn/testing';
import type { ShardSource } from './cross-shard-duplicates';
import { encodeIdKeys } from './id-keys-file';
import { acquireLease, type PartitionLease } from './partition-lease';
import { publishRun, runTag, type PublishRequest } from './partition-publisher';
import { listCommittedPartitions, readManifestAt } from './partition-reader';
import { SCORE_BINS, mergeOutcomes, type ShardOutcome } from './run-manifest';
import { queryScores } from './score-query';
import { tableLayout } from './score-table-layout';
import { buildQuarantineTable, buildScoreTable, encodeTablePart, type RunIdentity } from './score-table-writer';

const BANDS = ['low', 'medium', 'high'];
const PLAYERS = ['tenure'];
const AS_OF = '2024-06-01';

/** A deterministic stand-in for the id keys scoring computes (any function of the id works). */
function keyOf(id: string): number {
  let h = 7;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) % 2 ** 40;
  return h;
}

function histogram(scores: number[]): number[] {
  const bins = new Array<number>(SCORE_BINS).fill(0);
  for (const s of scores) bins[Math.min(SCORE_BINS - 1, Math.floor(s * SCORE_BINS))]! += 1;
  return bins;
}

describe('publishing a run', () => {
  let dir: string;
  let output: string;
  let inputDir: string;
  const store = new LocalObjectStore();

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-publish-'));
    output = pathToFileURL(path.join(dir, 'scores')).href;
    inputDir = path.join(dir, 'input', `as_of=${AS_OF}`);
    await fs.mkdir(inputDir, { recursive: true });
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const runOf = (hash: string, digest = 'd'.repeat(64), attempt = 1): RunIdentity & { attempt: number } => ({
    runId: `churn-mlp-1.0.0_${AS_OF}_${hash}`,
    asOf: AS_OF,
    modelName: 'churn-mlp',
    modelVersion: '1.0.0',
    modelDigest: digest,
    scoredAt: new Date('2024-06-02T03:00:00Z'),
    attempt,
  });

  /**
   * Writes one shard's input file and what scoring stages for it: `scored` ids get a score part,
   * `ineligible` ids are only in the id keys, `bad` ids in the quarantine part.
   */
  async function stageShard(run: RunIdentity & { attempt: number }, index: number, rows: { scored: string[]; ineligible?: string[]; bad?: string[] }): Promise<{ outcome: ShardOutcome; source: ShardSource }> {
    const ineligible = rows.ineligible ?? [];
    const bad = rows.bad ?? [];
    const ids = [...rows.scored, ...ineligible, ...bad];
    const file = path.join(inputDir, `part-${index}.parquet`);
    await fs.writeFile(file, writeParquetTable(tableFromArrays({ customer_id: ids })));
    const uri = pathToFileURL(file).href;
    const staging = tableLayout(output).staging(run.runId).attempt(run.attempt);
    const scores = rows.scored.map((_, i) => (i + 1) / (rows.scored.length + 1));
    const bandCodes = scores.map((s) => (s >= 0.7 ? 2 : s >= 0.4 ? 1 : 0));
    await store.put(
      staging.partUri(index),
      encodeTablePart(buildScoreTable(run, { customerIds: vectorFromArray(rows.scored, new Utf8()), scores: Float32Array.from(scores), bandCodes: Int32Array.from(bandCodes), bandNames: BANDS }, PLAYERS)),
    );
    await store.put(
      staging.quarantineUri(index),
      encodeTablePart(
        buildQuarantineTable(run, {
          customerIds: vectorFromArray(bad, new Utf8()),
          sourceFiles: bad.map(() => uri),
          rowIndices: Int32Array.from(bad, (_, i) => rows.scored.length + ineligible.length + i),
          reasonCodes: bad.map(() => 'null_required'),
          reasonDetails: bad.map(() => 'seats: null in a required column'),
        }),
      ),
    );
    const valid = [...rows.scored, ...ineligible];
    await store.put(
      staging.idsUri(index),
      encodeIdKeys({ keys: Float64Array.from(valid, keyOf), rows: Uint32Array.from(valid, (_, i) => i), kinds: Uint8Array.from(valid, (_, i) => (i < rows.scored.length ? 0 : 1)) }),
    );
    const bandCounts = Object.fromEntries(BANDS.map((b, code) => [b, bandCodes.filter((c) => c === code).length]));
    return {
      source: { index, file: uri, fileSize: (await fs.stat(file)).size, rowGroups: [0], firstRow: 0 },
      outcome: {
        index,
        attempt: run.attempt,
        device: 'cpu',
        file: uri,
        rowGroups: [0],
        firstRow: 0,
        rowsRead: ids.length,
        rowsScored: rows.scored.length,
        rowsQuarantined: bad.length,
        rowsIneligible: ineligible.length,
        quarantineReasons: bad.length ? { null_required: bad.length } : {},
        bandCounts,
        scoreHistogram: histogram(scores),
        scoreSum: scores.reduce((a, b) => a + b, 0),
        rowsExplained: 0,
        modelEvaluations: 0,
        timingsMs: {},
        cpuMs: 0,
      },
    };
  }

  async function leaseFor(run: RunIdentity & { attempt: number }, s: ObjectStore = store): Promise<PartitionLease> {
    return acquireLease(s, tableLayout(output).partition(AS_OF, 'churn-mlp-1.0.0').leaseUri, { runId: run.runId, attempt: run.attempt, timeoutMs: 60_000 });
  }

  async function publish(run: RunIdentity & { attempt: number }, shards: { outcome: ShardOutcome; source: ShardSource }[], extra: Partial<PublishRequest> = {}) {
    const lease = extra.lease ?? (await leaseFor(run));
    try {
      return await publishRun({
      store,
      table: tableLayout(output),
      run,
      manifest: {
        model: { name: 'churn-mlp', version: '1.0.0', digest: run.modelDigest, modelSha256: 'a'.repeat(64), bundle: 'file:///bundles/churn-mlp' },
        input: { partition: pathToFileURL(inputDir).href, files: shards.map((s) => ({ uri: s.source.file, size: s.source.fileSize, rows: s.outcome.rowsRead })) },
        settings: {},
        execution: {},
        startedAt: '2024-06-02T03:00:00.000Z',
        device: 'cpu',
      },
      outcomes: shards.map((s) => s.outcome),
      sources: new Map(shards.map((s) => [s.source.index, s.source])),
      idColumn: 'customer_id',
      bandNames: BANDS,
      players: PLAYERS,
      ...extra,
      lease,
    });
    } finally {
      await lease.release();
    }
  }

  const partitionDir = () => path.join(dir, 'scores', `as_of=${AS_OF}`, 'model=churn-mlp-1.0.0');

  it('publishes the staged parts under attempt-unique names, relative manifest, _SUCCESS, and removes the staging', async () => {
    const run = runOf('aaaaaaaaaaaa');
    const manifest = await publish(run, [await stageShard(run, 0, { scored: ['a', 'b'], bad: ['x'] }), await stageShard(run, 1, { scored: ['c'], ineligible: ['d'] })]);
    expect(manifest).toMatchObject({ formatVersion: 2, runId: run.runId, attempt: 1, rowsRead: 5, rowsScored: 3, rowsQuarantined: 1, rowsIneligible: 1, quarantineReasons: { null_required: 1 } });
    const tag = runTag(run.runId, 1);
    expect(tag).toBe('aaaaaaaaaaaa-a1');
    expect(manifest.parts).toEqual([
      { name: `part-00000-${tag}.parquet`, rows: 2, shard: 0 },
      { name: `part-00001-${tag}.parquet`, rows: 1, shard: 1 },
    ]);
    expect((await fs.readdir(partitionDir())).sort()).toEqual(['_SUCCESS', '_manifest.json', `part-00000-${tag}.parquet`, `part-00001-${tag}.parquet`]);
    expect((await fs.readFile(path.join(partitionDir(), '_SUCCESS'), 'utf8')).trim()).toBe(run.runId);
    expect(await fs.readdir(path.join(dir, 'scores_quarantine', `as_of=${AS_OF}`, 'model=churn-mlp-1.0.0'))).toEqual([`part-00000-${tag}.parquet`, `part-00001-${tag}.parquet`]);
    expect(await store.list(`${output}/_temporary/`)).toEqual([]);
    const result = await queryScores(store, output, 'SELECT (SELECT count(*) FROM scores) AS scored, (SELECT count(*) FROM quarantine) AS quarantined, (SELECT min(reason_code) FROM quarantine) AS code');
    expect(result.rows).toEqual([{ scored: 3, quarantined: 1, code: 'null_required' }]);
  });

  it('refuses, publishing nothing, when a staged part holds other counts than its outcome', async () => {
    const run = runOf('bbbbbbbbbbbb');
    const shard = await stageShard(run, 0, { scored: ['a', 'b'] });
    const error = await churnErrorOf(publish(run, [{ ...shard, outcome: { ...shard.outcome, rowsScored: 3, rowsRead: 3 } }]));
    expect(error.code).toBe('COMMIT_FAILED');
    expect(error.message).toMatch(/shard 0 reported 3 scored rows but .*part-00000\.parquet\.staged holds 2; nothing was published/);
    await expect(fs.stat(path.join(partitionDir(), '_SUCCESS'))).rejects.toThrow();
  });

  it('refuses an outcome that is not a shard of this run attempt (a forged payload)', async () => {
    const run = runOf('cccccccccccc');
    const shard = await stageShard(run, 0, { scored: ['a'] });
    const forged = await churnErrorOf(publish(run, [{ ...shard, outcome: { ...shard.outcome, attempt: 5 } }]));
    expect(forged.code).toBe('COMMIT_FAILED');
    expect(forged.message).toMatch(/is not a shard of run/);
    await expect(fs.stat(path.join(partitionDir(), '_SUCCESS'))).rejects.toThrow();
  });

  it('quarantines every copy of an id found in more than one shard, rewriting the parts, and the counts still add up', async () => {
    const run = runOf('dddddddddddd');
    const shards = [await stageShard(run, 0, { scored: ['a', 'dup', 'b'] }), await stageShard(run, 1, { scored: ['c'], ineligible: ['dup'] }), await stageShard(run, 2, { scored: ['dup', 'e'] })];
    const manifest = await publish(run, shards);
    expect(manifest.duplicates).toEqual({ ids: 1, rows: 3 });
    expect(manifest).toMatchObject({ rowsRead: 7, rowsScored: 4, rowsQuarantined: 3, rowsIneligible: 0, quarantineReasons: { duplicate_id: 3 } });
    expect(manifest.rowsScored + manifest.rowsQuarantined + manifest.rowsIneligible).toBe(manifest.rowsRead);
    for (const s of manifest.shards) expect(s.rowsScored + s.rowsQuarantined + s.rowsIneligible).toBe(s.rowsRead);
    expect(mergeOutcomes(manifest.shards).bandCounts).toEqual(manifest.bandCounts);
    const ids = await queryScores(store, output, 'SELECT customer_id FROM scores ORDER BY 1');
    expect(ids.rows.map((r) => r['customer_id'])).toEqual(['a', 'b', 'c', 'e']);
    const q = await queryScores(store, output, "SELECT customer_id, reason_code, reason_detail FROM quarantine WHERE reason_code = 'duplicate_id'");
    expect(q.rows).toHaveLength(3);
    expect(String(q.rows[0]!['reason_detail'])).toMatch(/customer_id "dup" appears 3 times in the partition \(part-0\.parquet row 1, part-1\.parquet row 1, part-2\.parquet row 0\); every copy is quarantined/);
  });

  it('keeps the previous version whole until the new manifest is in place, then removes it', async () => {
    const first = runOf('eeeeeeeeeeee');
    await publish(first, [await stageShard(first, 0, { scored: ['a', 'b'] })]);
    const second = runOf('ffffffffffff');
    const staged = [await stageShard(second, 0, { scored: ['a'] }), await stageShard(second, 1, { scored: ['b'] })];
    const events: string[] = [];
    const watched: ObjectStore = Object.create(store, {
      copy: { value: async (from: string, to: string) => (events.push(`copy ${path.basename(to)}`), store.copy(from, to)) },
      put: { value: async (uri: string, body: Uint8Array | string) => (events.push(`put ${path.basename(uri)}`), store.put(uri, body)) },
      delete: { value: async (uri: string) => (events.push(`delete ${path.basename(uri)}`), store.delete(uri)) },
    }) as ObjectStore;
    const manifest = await publish(second, staged, { store: watched, lease: await leaseFor(second, watched) });
    const at = (event: string) => events.indexOf(event);
    const oldPart = `delete part-00000-${runTag(first.runId, 1)}.parquet`;
    expect(at(`copy part-00001-${runTag(second.runId, 1)}.parquet`)).toBeLessThan(at('put _manifest.json'));
    expect(at('put _manifest.json')).toBeLessThan(at('put _SUCCESS'));
    expect(at('put _SUCCESS')).toBeLessThan(at(oldPart));
    expect(manifest.replaced).toMatchObject({ runId: first.runId, attempt: 1 });
    expect((await queryScores(store, output, 'SELECT count(*) AS n FROM scores')).rows).toEqual([{ n: 2 }]);
  });

  it('refuses to replace a partition committed by another bundle digest, unless asked to', async () => {
    const first = runOf('111111111111', 'a'.repeat(64));
    await publish(first, [await stageShard(first, 0, { scored: ['a'] })]);
    const other = runOf('222222222222', 'b'.repeat(64));
    const shards = [await stageShard(other, 0, { scored: ['a'] })];
    const conflict = await churnErrorOf(publish(other, shards));
    expect(conflict.code).toBe('PARTITION_CONFLICT');
    expect(conflict.settings).toEqual(['replace']);
    expect(conflict.message).toMatch(/committed by run .*111111111111 with bundle digest a{64}.*has digest b{64}/);
    expect((await readManifestAt(store, `${output}/as_of=${AS_OF}/model=churn-mlp-1.0.0/_manifest.json`)).runId).toBe(first.runId);
    const replaced = await publish(other, shards, { replace: true });
    expect(replaced.replaced).toMatchObject({ runId: first.runId, digest: 'a'.repeat(64) });
  });

  it('returns the committed manifest when a committed attempt is published again (a retried commit job)', async () => {
    const run = runOf('333333333333');
    const shards = [await stageShard(run, 0, { scored: ['a'] })];
    const first = await publish(run, shards);
    expect(await publish(run, shards)).toEqual(first);
  });

  it('lets a copied table read its own parts, and names a truncated manifest clearly', async () => {
    const run = runOf('444444444444');
    await publish(run, [await stageShard(run, 0, { scored: ['a', 'b'] })]);
    const copy = path.join(dir, 'copy');
    await fs.cp(path.join(dir, 'scores'), copy, { recursive: true });
    await fs.rm(path.join(dir, 'scores'), { recursive: true });
    const [partition] = await listCommittedPartitions(store, copy);
    expect(partition!.parts).toEqual([pathToFileURL(path.join(copy, `as_of=${AS_OF}`, 'model=churn-mlp-1.0.0', `part-00000-${runTag(run.runId, 1)}.parquet`)).href]);
    expect((await queryScores(store, copy, 'SELECT count(*) AS n FROM scores')).rows).toEqual([{ n: 2 }]);
    const manifestPath = path.join(copy, `as_of=${AS_OF}`, 'model=churn-mlp-1.0.0', '_manifest.json');
    await fs.writeFile(manifestPath, (await fs.readFile(manifestPath, 'utf8')).slice(0, 200));
    const truncated = await churnErrorOf(queryScores(store, copy, 'SELECT 1'));
    expect(truncated.code).toBe('CORRUPT_INPUT');
    expect(truncated.message).toMatch(/_manifest\.json is not valid JSON .*truncated or damaged/);
    await fs.writeFile(manifestPath, JSON.stringify({ formatVersion: 1, runId: 'old' }));
    expect((await churnErrorOf(queryScores(store, copy, 'SELECT 1'))).message).toMatch(/is not a churn-scoring run manifest of format 2 \(formatVersion 1\)/);
  });

  it('publishes nothing without the lease', async () => {
    const run = runOf('555555555555');
    const shards = [await stageShard(run, 0, { scored: ['a'] })];
    const lease = await leaseFor(run);
    await fs.rm(path.join(partitionDir(), '_lease.json'));
    const lost = await churnErrorOf(publish(run, shards, { lease }));
    expect(lost.code).toBe('PARTITION_LOCKED');
    await expect(fs.stat(path.join(partitionDir(), '_SUCCESS'))).rejects.toThrow();
    expect(readParquetBytes(await store.get(tableLayout(output).staging(run.runId).attempt(1).partUri(0))).numRows).toBe(1);
  });
});
