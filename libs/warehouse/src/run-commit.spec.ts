import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Utf8, vectorFromArray } from 'apache-arrow';
import { LocalObjectStore, type ObjectStore } from '@churn/object-store';
import { beginPartition, commitPartition, listCommittedPartitions, readCommittedManifest } from './run-commit';
import { SCORE_BINS, mergeOutcomes, type RunManifest, type ShardOutcome } from './run-manifest';
import { queryScores } from './score-query';
import { partitionLayout, runIdFor, type PartitionLayout } from './score-table-layout';
import { buildQuarantineTable, buildScoreTable, writeTablePart, type RunIdentity } from './score-table-writer';
import { churnErrorOf } from '@churn/testing';

const BANDS = ['low', 'medium', 'high'];

function histogram(entries: Record<number, number>): number[] {
  const bins = new Array<number>(SCORE_BINS).fill(0);
  for (const [bin, count] of Object.entries(entries)) bins[Number(bin)] = count;
  return bins;
}

function outcome(layout: PartitionLayout, index: number, overrides: Partial<ShardOutcome> = {}): ShardOutcome {
  return {
    index,
    device: 'cpu',
    file: `file:///data/customers/as_of=2024-06-01/part-${index}.parquet`,
    rowGroups: [0],
    firstRow: 0,
    rowsRead: 0,
    rowsScored: 0,
    rowsQuarantined: 0,
    rowsIneligible: 0,
    part: layout.partUri(index),
    quarantine: layout.quarantineUri(index),
    quarantineReasons: {},
    bandCounts: {},
    scoreHistogram: histogram({}),
    scoreSum: 0,
    rowsExplained: 0,
    modelEvaluations: 0,
    timingsMs: {},
    ...overrides,
  };
}

function runManifest(layout: PartitionLayout, run: RunIdentity, shards: ShardOutcome[]): RunManifest {
  return {
    formatVersion: 1,
    runId: run.runId,
    asOf: run.asOf,
    model: { name: run.modelName, version: run.modelVersion, sha256: 'a'.repeat(64), bundle: 'file:///bundles/churn' },
    input: { partition: 'file:///data/customers/as_of=2024-06-01', files: [] },
    output: layout.partitionUri,
    device: 'cpu',
    startedAt: '2024-06-02T03:00:00.000Z',
    committedAt: '2024-06-02T03:05:00.000Z',
    settings: {},
    explain: { policy: 'none', method: 'sampling', space: 'probability', permutations: 8 },
    ...mergeOutcomes(shards),
    shards,
  };
}


describe('mergeOutcomes', () => {
  const layout = partitionLayout('file:///out', '2024-06-01', 'm-1');

  it('sums counts, reasons, bands and histograms and takes the mean over scored rows', () => {
    const a = outcome(layout, 0, {
      rowsRead: 10,
      rowsScored: 6,
      rowsQuarantined: 3,
      rowsIneligible: 1,
      quarantineReasons: { 'seats: NaN': 2, 'customer_id: duplicate id': 1 },
      bandCounts: { low: 4, high: 2 },
      scoreHistogram: histogram({ 0: 4, 19: 2 }),
      scoreSum: 2.5,
      rowsExplained: 2,
      modelEvaluations: 300,
    });
    const b = outcome(layout, 1, {
      rowsRead: 5,
      rowsScored: 4,
      rowsQuarantined: 0,
      rowsIneligible: 1,
      quarantineReasons: {},
      bandCounts: { low: 1, medium: 3 },
      scoreHistogram: histogram({ 0: 1, 10: 3 }),
      scoreSum: 1.5,
      rowsExplained: 3,
      modelEvaluations: 450,
    });
    const c = outcome(layout, 2, { rowsRead: 2, rowsQuarantined: 2, quarantineReasons: { 'seats: NaN': 2 } });
    const totals = mergeOutcomes([a, b, c]);
    expect(totals).toEqual({
      rowsRead: 17,
      rowsScored: 10,
      rowsQuarantined: 5,
      rowsIneligible: 2,
      quarantineReasons: { 'seats: NaN': 4, 'customer_id: duplicate id': 1 },
      bandCounts: { low: 5, high: 2, medium: 3 },
      score: { mean: 0.4, histogram: histogram({ 0: 5, 10: 3, 19: 2 }) },
      rowsExplained: 5,
      modelEvaluations: 750,
    });
  });

  it('gives zeros (and mean 0) for no shards or no scored rows', () => {
    expect(mergeOutcomes([])).toEqual({
      rowsRead: 0,
      rowsScored: 0,
      rowsQuarantined: 0,
      rowsIneligible: 0,
      quarantineReasons: {},
      bandCounts: {},
      score: { mean: 0, histogram: histogram({}) },
      rowsExplained: 0,
      modelEvaluations: 0,
    });
    expect(mergeOutcomes([outcome(layout, 0, { rowsRead: 3, rowsIneligible: 3 })]).score.mean).toBe(0);
  });
});

describe('committing a partition', () => {
  const store = new LocalObjectStore();
  let dir: string;
  let outputUri: string;

  const runFor = (asOf: string, modelName = 'churn-mlp', modelVersion = '1.0.0'): RunIdentity => ({
    runId: runIdFor(`${modelName}-${modelVersion}`, asOf),
    asOf,
    modelName,
    modelVersion,
    scoredAt: new Date('2024-06-02T03:04:05.000Z'),
  });

  /** Writes the score and quarantine parts of one shard; ids are `<prefix>-<i>` with scores i/10. */
  async function writeShard(layout: PartitionLayout, run: RunIdentity, index: number, ids: string[]): Promise<ShardOutcome> {
    const scores = Float32Array.from(ids, (_, i) => (i + 1) / 10);
    const bandCodes = Int32Array.from(scores, (s) => (s >= 0.7 ? 2 : s >= 0.3 ? 1 : 0));
    await writeTablePart(store, layout.partUri(index), buildScoreTable(run, { customerIds: vectorFromArray(ids, new Utf8()), scores, bandCodes, bandNames: BANDS }));
    await writeTablePart(
      store,
      layout.quarantineUri(index),
      buildQuarantineTable(run, { customerIds: vectorFromArray([], new Utf8()), sourceFile: 'file:///in.parquet', rowIndices: new Int32Array(0), reasons: [] }),
    );
    return outcome(layout, index, { rowsRead: ids.length, rowsScored: ids.length, scoreSum: scores.reduce((a, s) => a + s, 0) });
  }

  /** Files under the partition folder, relative and sorted. */
  async function filesIn(layout: PartitionLayout): Promise<string[]> {
    const root = new URL(layout.partitionUri).pathname;
    const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
      .sort();
  }

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-warehouse-commit-'));
    outputUri = pathToFileURL(path.join(dir, 'scores')).href;
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes the manifest and then _SUCCESS (holding the run id)', async () => {
    const run = runFor('2024-06-01');
    const layout = partitionLayout(outputUri, run.asOf, 'churn-mlp-1.0.0');
    const shards = [await writeShard(layout, run, 0, ['a', 'b']), await writeShard(layout, run, 1, ['c'])];
    const manifest = runManifest(layout, run, shards);

    // Record the order of writes: the manifest must exist before _SUCCESS appears.
    const order: string[] = [];
    const inner: ObjectStore = store;
    const recording: ObjectStore = {
      list: (prefix) => inner.list(prefix),
      head: (uri) => inner.head(uri),
      getRange: (uri, start, end) => inner.getRange(uri, start, end),
      get: (uri) => inner.get(uri),
      delete: (uri) => inner.delete(uri),
      put: async (uri, body, options) => {
        order.push(path.basename(uri));
        await inner.put(uri, body, options);
      },
    };
    await commitPartition(recording, layout, manifest);
    expect(order).toEqual(['_manifest.json', '_SUCCESS']);

    expect(await filesIn(layout)).toEqual(['_SUCCESS', '_manifest.json', '_quarantine/part-00000.parquet', '_quarantine/part-00001.parquet', 'part-00000.parquet', 'part-00001.parquet']);
    expect(new TextDecoder().decode(await store.get(layout.successUri))).toBe(`${run.runId}\n`);
    expect(await readCommittedManifest(store, layout)).toEqual(manifest);
  });

  it('refuses with COMMIT_FAILED, writing no _SUCCESS, when a reported part is missing', async () => {
    const run = runFor('2024-06-01');
    const layout = partitionLayout(outputUri, run.asOf, 'churn-mlp-1.0.0');
    const shards = [await writeShard(layout, run, 0, ['a']), await writeShard(layout, run, 1, ['b'])];
    await fs.rm(new URL(layout.partUri(1)).pathname);

    const error = await churnErrorOf(commitPartition(store, layout, runManifest(layout, run, shards)));
    expect(error.code).toBe('COMMIT_FAILED');
    expect(error.message).toContain('shard 1');
    expect(error.message).toContain(layout.partUri(1));
    expect(error.details).toEqual({ shard: 1, uri: layout.partUri(1) });
    expect(await store.head(layout.successUri)).toBeUndefined();
    expect(await store.head(layout.manifestUri)).toBeUndefined();
    expect(await readCommittedManifest(store, layout)).toBeUndefined();
  });

  it('refuses when a reported quarantine file is missing', async () => {
    const run = runFor('2024-06-01');
    const layout = partitionLayout(outputUri, run.asOf, 'churn-mlp-1.0.0');
    const shards = [await writeShard(layout, run, 0, ['a'])];
    await store.delete(layout.quarantineUri(0));
    const error = await churnErrorOf(commitPartition(store, layout, runManifest(layout, run, shards)));
    expect(error.code).toBe('COMMIT_FAILED');
    expect(error.details['uri']).toBe(layout.quarantineUri(0));
    expect(await store.head(layout.successUri)).toBeUndefined();
  });

  it('refuses when a part holds another row count than its shard reported', async () => {
    const run = runFor('2024-06-01');
    const layout = partitionLayout(outputUri, run.asOf, 'churn-mlp-1.0.0');
    const shard = await writeShard(layout, run, 0, ['a', 'b']);
    const error = await churnErrorOf(commitPartition(store, layout, runManifest(layout, run, [{ ...shard, rowsScored: 3 }])));
    expect(error.code).toBe('COMMIT_FAILED');
    expect(error.message).toContain(`shard 0 reported 3 rows in ${layout.partUri(0)} but the file holds 2`);
    expect(await store.head(layout.successUri)).toBeUndefined();
  });

  it('removes stale parts of an earlier run with more shards, keeping this run’s parts', async () => {
    const run = runFor('2024-06-01');
    const layout = partitionLayout(outputUri, run.asOf, 'churn-mlp-1.0.0');
    // An earlier run cut four shards; this one cuts two.
    for (let i = 0; i < 4; i++) await writeShard(layout, run, i, [`old-${i}`]);
    await beginPartition(store, layout);
    const shards = [await writeShard(layout, run, 0, ['a', 'b']), await writeShard(layout, run, 1, ['c'])];
    await store.put(`${layout.partitionUri}/notes.txt`, 'kept: not a data file');
    await commitPartition(store, layout, runManifest(layout, run, shards));
    expect(await filesIn(layout)).toEqual([
      '_SUCCESS',
      '_manifest.json',
      '_quarantine/part-00000.parquet',
      '_quarantine/part-00001.parquet',
      'notes.txt',
      'part-00000.parquet',
      'part-00001.parquet',
    ]);
  });

  it('beginPartition removes _SUCCESS so readers stop trusting the partition, and is fine without one', async () => {
    const run = runFor('2024-06-01');
    const layout = partitionLayout(outputUri, run.asOf, 'churn-mlp-1.0.0');
    await beginPartition(store, layout);
    const shards = [await writeShard(layout, run, 0, ['a'])];
    await commitPartition(store, layout, runManifest(layout, run, shards));
    expect(await store.head(layout.successUri)).toBeDefined();
    await beginPartition(store, layout);
    expect(await store.head(layout.successUri)).toBeUndefined();
    expect(await store.head(layout.manifestUri)).toBeDefined();
    expect(await readCommittedManifest(store, layout)).toBeUndefined();
    expect(await listCommittedPartitions(store, outputUri)).toEqual([]);
  });

  it('lists only committed partitions, with the parts their manifests name', async () => {
    const day1 = runFor('2024-06-01');
    const day2 = runFor('2024-06-02');
    const other = runFor('2024-06-01', 'churn-lr', '2');
    const layout1 = partitionLayout(outputUri, day1.asOf, 'churn-mlp-1.0.0');
    const layout2 = partitionLayout(outputUri, day2.asOf, 'churn-mlp-1.0.0');
    const layout3 = partitionLayout(outputUri, other.asOf, 'churn-lr-2');
    await commitPartition(store, layout1, runManifest(layout1, day1, [await writeShard(layout1, day1, 0, ['a']), await writeShard(layout1, day1, 1, ['b'])]));
    await commitPartition(store, layout3, runManifest(layout3, other, [await writeShard(layout3, other, 0, ['a'])]));
    // Day 2 is written but never committed.
    await writeShard(layout2, day2, 0, ['z']);
    // A stray part in a committed partition, written after its commit, is not listed.
    await writeShard(layout1, day1, 7, ['stray']);

    const partitions = await listCommittedPartitions(store, outputUri);
    expect(partitions).toEqual([
      { partitionUri: layout3.partitionUri, asOf: '2024-06-01', model: 'churn-lr-2', parts: [layout3.partUri(0)] },
      { partitionUri: layout1.partitionUri, asOf: '2024-06-01', model: 'churn-mlp-1.0.0', parts: [layout1.partUri(0), layout1.partUri(1)] },
    ]);
    expect(await listCommittedPartitions(store, `${outputUri}/`)).toEqual(partitions);
    expect(await listCommittedPartitions(store, pathToFileURL(path.join(dir, 'nothing-here')).href)).toEqual([]);
  });

  describe('queryScores', () => {
    it('queries committed partitions only, ignoring uncommitted partitions and stale files', async () => {
      const day1 = runFor('2024-06-01');
      const day2 = runFor('2024-06-02');
      const layout1 = partitionLayout(outputUri, day1.asOf, 'churn-mlp-1.0.0');
      const layout2 = partitionLayout(outputUri, day2.asOf, 'churn-mlp-1.0.0');
      const shards = [await writeShard(layout1, day1, 0, ['a', 'b', 'c']), await writeShard(layout1, day1, 1, ['d'])];
      await commitPartition(store, layout1, runManifest(layout1, day1, shards));
      await writeShard(layout1, day1, 5, ['stale-1', 'stale-2']);
      await writeShard(layout2, day2, 0, ['uncommitted']);

      const result = await queryScores(store, outputUri, 'SELECT customer_id, score, risk_band, as_of, run_id FROM scores ORDER BY customer_id');
      expect(result.columns).toEqual(['customer_id', 'score', 'risk_band', 'as_of', 'run_id']);
      expect(result.rows.map((r) => r['customer_id'])).toEqual(['a', 'b', 'c', 'd']);
      expect(result.rows.map((r) => r['risk_band'])).toEqual(['low', 'low', 'medium', 'low']);
      result.rows.forEach((row, i) => expect(row['score']).toBeCloseTo([0.1, 0.2, 0.3, 0.1][i]!, 6));
      expect(result.rows[0]).toMatchObject({ as_of: '2024-06-01', run_id: day1.runId });

      const count = await queryScores(store, `${outputUri}/`, 'SELECT count(*) AS n, count(DISTINCT run_id) AS runs FROM scores');
      expect(count.rows).toEqual([{ n: 4, runs: 1 }]);
    });

    it('turns a SQL error into INVALID_ARGUMENT', async () => {
      const run = runFor('2024-06-01');
      const layout = partitionLayout(outputUri, run.asOf, 'churn-mlp-1.0.0');
      await commitPartition(store, layout, runManifest(layout, run, [await writeShard(layout, run, 0, ['a'])]));
      const syntax = await churnErrorOf(queryScores(store, outputUri, 'SELEKT * FROM scores'));
      expect(syntax.code).toBe('INVALID_ARGUMENT');
      expect(syntax.message).toMatch(/^query failed: /);
      const column = await churnErrorOf(queryScores(store, outputUri, 'SELECT no_such_column FROM scores'));
      expect(column.code).toBe('INVALID_ARGUMENT');
      expect(column.message).toContain('no_such_column');
    });

    it('refuses a score table without committed partitions with INPUT_NOT_FOUND', async () => {
      const run = runFor('2024-06-01');
      const layout = partitionLayout(outputUri, run.asOf, 'churn-mlp-1.0.0');
      await writeShard(layout, run, 0, ['a']);
      const error = await churnErrorOf(queryScores(store, outputUri, 'SELECT * FROM scores'));
      expect(error.code).toBe('INPUT_NOT_FOUND');
      expect(error.message).toContain('_SUCCESS');
    });
  });
});
