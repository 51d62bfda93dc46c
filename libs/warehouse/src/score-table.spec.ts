import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DataType, Precision, TimeUnit, Utf8, vectorFromArray, type Table } from 'apache-arrow';
import { readParquetBytes } from '@churn/arrow-io';
import { LocalObjectStore } from '@churn/object-store';
import { partitionLayout, runIdFor } from './score-table-layout';
import { SCORE_COLUMNS, buildQuarantineTable, buildScoreTable, writeTablePart, type RunIdentity } from './score-table-writer';

const run: RunIdentity = {
  runId: runIdFor('churn-mlp-1.0.0', '2024-06-01'),
  asOf: '2024-06-01',
  modelName: 'churn-mlp',
  modelVersion: '1.0.0',
  scoredAt: new Date('2024-06-02T03:04:05.678Z'),
};

/** Column values as plain JS values (timestamps and dates as epoch milliseconds). */
function columnValues(table: Table, name: string): unknown[] {
  const vector = table.getChild(name);
  if (!vector) throw new Error(`no column ${name}`);
  return Array.from({ length: vector.length }, (_, i) => {
    const value = vector.get(i) as unknown;
    if (typeof value === 'bigint') return Number(value);
    if (Object.prototype.toString.call(value) === '[object Date]') return (value as Date).getTime();
    return value;
  });
}

describe('partitionLayout', () => {
  it('places a run under as_of=<date>/model=<id> with 5-digit part numbers', () => {
    const layout = partitionLayout('file:///data/scores', '2024-06-01', 'churn-mlp-1.0.0');
    const root = 'file:///data/scores/as_of=2024-06-01/model=churn-mlp-1.0.0';
    expect(layout.partitionUri).toBe(root);
    expect(layout.partUri(3)).toBe(`${root}/part-00003.parquet`);
    expect(layout.partUri(0)).toBe(`${root}/part-00000.parquet`);
    expect(layout.partUri(123_456)).toBe(`${root}/part-123456.parquet`);
    expect(layout.quarantineUri(3)).toBe(`${root}/_quarantine/part-00003.parquet`);
    expect(layout.manifestUri).toBe(`${root}/_manifest.json`);
    expect(layout.successUri).toBe(`${root}/_SUCCESS`);
  });

  it('works the same on S3, with or without a trailing slash', () => {
    for (const output of ['s3://bucket/warehouse/scores', 's3://bucket/warehouse/scores/']) {
      const layout = partitionLayout(output, '2024-06-01', 'm-2');
      expect(layout.partitionUri).toBe('s3://bucket/warehouse/scores/as_of=2024-06-01/model=m-2');
      expect(layout.partUri(12)).toBe('s3://bucket/warehouse/scores/as_of=2024-06-01/model=m-2/part-00012.parquet');
      expect(layout.quarantineUri(12)).toBe('s3://bucket/warehouse/scores/as_of=2024-06-01/model=m-2/_quarantine/part-00012.parquet');
    }
  });

  it('normalises a bare local path to a file URI', () => {
    const layout = partitionLayout('/data/scores/', '2024-06-01', 'm-1');
    expect(layout.successUri).toBe('file:///data/scores/as_of=2024-06-01/model=m-1/_SUCCESS');
  });
});

describe('runIdFor', () => {
  it('is deterministic and has no ":" (BullMQ job ids forbid it)', () => {
    expect(runIdFor('churn-mlp-1.0.0', '2024-06-01')).toBe('churn-mlp-1.0.0_2024-06-01');
    expect(runIdFor('churn-mlp-1.0.0', '2024-06-01')).toBe(runIdFor('churn-mlp-1.0.0', '2024-06-01'));
    expect(runIdFor('churn_lr-2024.06.01+b7', '2023-12-31')).not.toContain(':');
    expect(runIdFor('a-1', '2024-06-01')).not.toBe(runIdFor('a-1', '2024-06-02'));
  });
});

describe('score and quarantine parts', () => {
  const store = new LocalObjectStore();
  let dir: string;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-warehouse-parts-'));
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function roundTrip(table: Table, name: string): Promise<Table> {
    const uri = pathToFileURL(path.join(dir, 'nested', name)).href;
    await writeTablePart(store, uri, table);
    return readParquetBytes(await store.get(uri));
  }

  it('writes the score-table contract columns, in order, with their types and values', async () => {
    const scores = Float32Array.from([0.05, 0.5, 0.95, 0.3]);
    const table = buildScoreTable(run, {
      customerIds: vectorFromArray(['c-1', 'c-2', 'c-3', 'c-4'], new Utf8()),
      scores,
      bandCodes: Int32Array.from([0, 1, 2, 1]),
      bandNames: ['low', 'medium', 'high'],
    });
    expect(table.schema.fields.map((f) => f.name)).toEqual([...SCORE_COLUMNS]);

    const back = await roundTrip(table, 'part-00000.parquet');
    expect(back.numRows).toBe(4);
    expect(back.schema.fields.map((f) => f.name)).toEqual([...SCORE_COLUMNS]);
    expect(SCORE_COLUMNS).toEqual(['customer_id', 'as_of', 'score', 'risk_band', 'model_name', 'model_version', 'run_id', 'scored_at']);

    const type = (name: string) => back.schema.fields.find((f) => f.name === name)!.type as DataType;
    expect(DataType.isDate(type('as_of'))).toBe(true);
    const score = type('score');
    expect(DataType.isFloat(score) && score.precision).toBe(Precision.SINGLE);
    const scoredAt = type('scored_at');
    expect(DataType.isTimestamp(scoredAt) && scoredAt.unit).toBe(TimeUnit.MILLISECOND);
    for (const name of ['customer_id', 'risk_band', 'model_name', 'model_version', 'run_id']) {
      const t = type(name);
      expect(DataType.isUtf8(t) || (DataType.isDictionary(t) && DataType.isUtf8(t.dictionary))).toBe(true);
    }

    expect(columnValues(back, 'customer_id')).toEqual(['c-1', 'c-2', 'c-3', 'c-4']);
    expect(columnValues(back, 'as_of')).toEqual(Array(4).fill(Date.UTC(2024, 5, 1)));
    expect(columnValues(back, 'score')).toEqual(Array.from(scores));
    expect(columnValues(back, 'risk_band')).toEqual(['low', 'medium', 'high', 'medium']);
    expect(columnValues(back, 'model_name')).toEqual(Array(4).fill('churn-mlp'));
    expect(columnValues(back, 'model_version')).toEqual(Array(4).fill('1.0.0'));
    expect(columnValues(back, 'run_id')).toEqual(Array(4).fill('churn-mlp-1.0.0_2024-06-01'));
    expect(columnValues(back, 'scored_at')).toEqual(Array(4).fill(Date.parse('2024-06-02T03:04:05.678Z')));
  });

  it('writes an empty score part that still has the full schema', async () => {
    const table = buildScoreTable(run, { customerIds: vectorFromArray([], new Utf8()), scores: new Float32Array(0), bandCodes: new Int32Array(0), bandNames: ['low'] });
    const back = await roundTrip(table, 'part-00001.parquet');
    expect(back.numRows).toBe(0);
    expect(back.schema.fields.map((f) => f.name)).toEqual([...SCORE_COLUMNS]);
  });

  it('writes quarantine rows with source, row index, reason and a null id where there was none', async () => {
    const table = buildQuarantineTable(run, {
      customerIds: vectorFromArray(['c-9', null, 'c-9'], new Utf8()),
      sourceFile: 'file:///data/customers/as_of=2024-06-01/part-0.parquet',
      rowIndices: Int32Array.from([1000, 1003, 1010]),
      reasons: ['seats: -1 is below the minimum 0', 'customer_id: null in a required column', 'customer_id: duplicate id "c-9"'],
    });
    const back = await roundTrip(table, '_quarantine/part-00000.parquet');
    expect(back.schema.fields.map((f) => f.name)).toEqual(['customer_id', 'source_file', 'row_index', 'reason', 'as_of', 'run_id']);
    expect(DataType.isDate(back.schema.fields[4]!.type)).toBe(true);
    expect(DataType.isInt(back.schema.fields[2]!.type)).toBe(true);
    expect(columnValues(back, 'customer_id')).toEqual(['c-9', null, 'c-9']);
    expect(columnValues(back, 'source_file')).toEqual(Array(3).fill('file:///data/customers/as_of=2024-06-01/part-0.parquet'));
    expect(columnValues(back, 'row_index')).toEqual([1000, 1003, 1010]);
    expect(columnValues(back, 'reason')).toEqual([
      'seats: -1 is below the minimum 0',
      'customer_id: null in a required column',
      'customer_id: duplicate id "c-9"',
    ]);
    expect(columnValues(back, 'as_of')).toEqual(Array(3).fill(Date.UTC(2024, 5, 1)));
    expect(columnValues(back, 'run_id')).toEqual(Array(3).fill(run.runId));
  });

  it('overwrites a part on retry instead of adding another file', async () => {
    const uri = pathToFileURL(path.join(dir, 'part-00000.parquet')).href;
    const ids = (values: string[]) => vectorFromArray(values, new Utf8());
    await writeTablePart(store, uri, buildScoreTable(run, { customerIds: ids(['a']), scores: Float32Array.from([0.1]), bandCodes: Int32Array.from([0]), bandNames: ['low'] }));
    await writeTablePart(store, uri, buildScoreTable(run, { customerIds: ids(['b', 'c']), scores: Float32Array.from([0.2, 0.3]), bandCodes: Int32Array.from([0, 0]), bandNames: ['low'] }));
    expect(await fs.readdir(dir)).toEqual(['part-00000.parquet']);
    expect(columnValues(readParquetBytes(await store.get(uri)), 'customer_id')).toEqual(['b', 'c']);
  });
});
