import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DataType, Precision, TimeUnit, Utf8, vectorFromArray, type Table } from 'apache-arrow';
import { readParquetBytes } from '@churn/arrow-io';
import { LocalObjectStore } from '@churn/object-store';
import { isInside, tableLayout } from './score-table-layout';
import { QUARANTINE_COLUMNS, SCORE_COLUMNS, buildQuarantineTable, buildScoreTable, explanationColumnNames, writeTablePart, type RunIdentity } from './score-table-writer';

const PLAYERS = ['tenure', 'plan'];

const run: RunIdentity = {
  runId: 'churn-mlp-1.0.0_2024-06-01_0123456789ab',
  asOf: '2024-06-01',
  modelName: 'churn-mlp',
  modelVersion: '1.0.0',
  modelDigest: 'd'.repeat(64),
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

describe('tableLayout', () => {
  it('places a partition under as_of=<date>/model=<id>, its quarantine under the sibling root', () => {
    const layout = tableLayout('file:///data/scores').partition('2024-06-01', 'churn-mlp-1.0.0');
    const root = 'file:///data/scores/as_of=2024-06-01/model=churn-mlp-1.0.0';
    expect(layout.partitionUri).toBe(root);
    expect(layout.manifestUri).toBe(`${root}/_manifest.json`);
    expect(layout.successUri).toBe(`${root}/_SUCCESS`);
    expect(layout.leaseUri).toBe(`${root}/_lease.json`);
    expect(layout.quarantinePartitionUri).toBe('file:///data/scores_quarantine/as_of=2024-06-01/model=churn-mlp-1.0.0');
    expect(layout.partName(3, 'abc-a2')).toBe('part-00003-abc-a2.parquet');
    expect(layout.partName(123_456, 't')).toBe('part-123456-t.parquet');
    expect(layout.quarantinePartName('duplicates', 't')).toBe('part-duplicates-t.parquet');
  });

  it('stages under _temporary/<run>/a<attempt> with names no *.parquet glob matches', () => {
    const staging = tableLayout('s3://bucket/warehouse/scores/').staging('m-1_2024-06-01_abc').attempt(2);
    expect(staging.attemptUri).toBe('s3://bucket/warehouse/scores/_temporary/m-1_2024-06-01_abc/a2');
    for (const uri of [staging.partUri(7), staging.quarantineUri(7), staging.idsUri(7), staging.rewrittenPartUri(7), staging.duplicatesQuarantineUri]) {
      expect(uri.startsWith(staging.attemptUri)).toBe(true);
      expect(uri.endsWith('.parquet')).toBe(false);
    }
    expect(staging.partUri(7)).toBe('s3://bucket/warehouse/scores/_temporary/m-1_2024-06-01_abc/a2/part-00007.parquet.staged');
  });

  it('normalises a bare local path, and refuses a bucket root (no room for the sibling quarantine)', () => {
    expect(tableLayout('/data/scores/').partition('2024-06-01', 'm-1').successUri).toBe('file:///data/scores/as_of=2024-06-01/model=m-1/_SUCCESS');
    expect(() => tableLayout('s3://bucket')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', settings: ['output'] }));
    expect(() => tableLayout('s3://bucket/')).toThrow(/bucket root/);
  });

  it('tells what is inside a prefix, on whole segments', () => {
    expect(isInside('s3://b/scores/_temporary/r1/a1/x', 's3://b/scores/_temporary/r1')).toBe(true);
    expect(isInside('s3://b/scores/_temporary/r10/x', 's3://b/scores/_temporary/r1')).toBe(false);
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
    const table = buildScoreTable(
      run,
      {
        customerIds: vectorFromArray(['c-1', 'c-2', 'c-3', 'c-4'], new Utf8()),
        scores,
        bandCodes: Int32Array.from([0, 1, 2, 1]),
        bandNames: ['low', 'medium', 'high'],
      },
      PLAYERS,
    );
    const columns = [...SCORE_COLUMNS, ...explanationColumnNames(PLAYERS)];
    expect(table.schema.fields.map((f) => f.name)).toEqual(columns);

    const back = await roundTrip(table, 'part-00000.parquet');
    expect(back.numRows).toBe(4);
    expect(back.schema.fields.map((f) => f.name)).toEqual(columns);
    expect(SCORE_COLUMNS).toEqual(['customer_id', 'as_of', 'score', 'risk_band', 'model_name', 'model_version', 'model_digest', 'run_id', 'scored_at']);
    // The contract columns are declared non-null; explanation columns may be null.
    expect(back.schema.fields.filter((f) => !f.nullable).map((f) => f.name)).toEqual([...SCORE_COLUMNS, 'explained']);
    expect(columnValues(back, 'explained')).toEqual([false, false, false, false]);
    expect(columnValues(back, 'contrib_tenure')).toEqual([null, null, null, null]);
    expect(columnValues(back, 'reason_1_text')).toEqual([null, null, null, null]);

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
    expect(columnValues(back, 'run_id')).toEqual(Array(4).fill(run.runId));
    expect(columnValues(back, 'model_digest')).toEqual(Array(4).fill('d'.repeat(64)));
    expect(columnValues(back, 'scored_at')).toEqual(Array(4).fill(Date.parse('2024-06-02T03:04:05.678Z')));
  });

  it('writes an empty score part that still has the full schema', async () => {
    const table = buildScoreTable(run, { customerIds: vectorFromArray([], new Utf8()), scores: new Float32Array(0), bandCodes: new Int32Array(0), bandNames: ['low'] }, PLAYERS);
    const back = await roundTrip(table, 'part-00001.parquet');
    expect(back.numRows).toBe(0);
    expect(back.schema.fields.map((f) => f.name)).toEqual([...SCORE_COLUMNS, ...explanationColumnNames(PLAYERS)]);
  });

  it('writes explanations where rows were explained and nulls elsewhere, in the same schema', async () => {
    const rows = { customerIds: vectorFromArray(['a', 'b'], new Utf8()), scores: Float32Array.from([0.2, 0.8]), bandCodes: Int32Array.from([0, 1]), bandNames: ['low', 'high'] };
    const explained = buildScoreTable(run, rows, PLAYERS, {
      explained: Uint8Array.from([0, 1]),
      baseValue: 0.1,
      contributions: Float32Array.from([0, 0, 0.5, 0.2]),
      reasons: [[null, 'tenure'], [null, 'plan'], [null, null]],
      reasonTexts: [[null, 'tenure 3 days'], [null, 'plan free'], [null, null]],
    });
    const none = buildScoreTable(run, rows, PLAYERS);
    const back = await roundTrip(explained, 'part-00002.parquet');
    expect(back.schema.toString()).toBe((await roundTrip(none, 'part-00003.parquet')).schema.toString());
    expect(columnValues(back, 'explained')).toEqual([false, true]);
    expect(columnValues(back, 'base_value')).toEqual([null, Math.fround(0.1)]);
    expect(columnValues(back, 'contrib_tenure')).toEqual([null, 0.5]);
    expect(columnValues(back, 'contrib_plan')).toEqual([null, Math.fround(0.2)]);
    expect(columnValues(back, 'reason_1_text')).toEqual([null, 'tenure 3 days']);
  });

  it('writes quarantine rows with source, row index, reason and a null id where there was none', async () => {
    const file = 'file:///data/customers/as_of=2024-06-01/part-0.parquet';
    const table = buildQuarantineTable(run, {
      customerIds: vectorFromArray(['c-9', null, 'c-9'], new Utf8()),
      sourceFiles: [file, file, file],
      rowIndices: Int32Array.from([1000, 1003, 1010]),
      reasonCodes: ['below_min', 'null_required', 'duplicate_id'],
      reasonDetails: ['seats: -1 is below the minimum 0', 'customer_id: null in a required column', 'customer_id "c-9" appears on 2 rows'],
    });
    const back = await roundTrip(table, 'quarantine.parquet');
    expect(back.schema.fields.map((f) => f.name)).toEqual([...QUARANTINE_COLUMNS]);
    expect(DataType.isDate(back.schema.fields.find((f) => f.name === 'as_of')!.type)).toBe(true);
    expect(DataType.isInt(back.schema.fields[2]!.type)).toBe(true);
    expect(columnValues(back, 'customer_id')).toEqual(['c-9', null, 'c-9']);
    expect(columnValues(back, 'source_file')).toEqual(Array(3).fill(file));
    expect(columnValues(back, 'row_index')).toEqual([1000, 1003, 1010]);
    expect(columnValues(back, 'reason_code')).toEqual(['below_min', 'null_required', 'duplicate_id']);
    expect(columnValues(back, 'reason_detail')[0]).toBe('seats: -1 is below the minimum 0');
    expect(columnValues(back, 'as_of')).toEqual(Array(3).fill(Date.UTC(2024, 5, 1)));
    expect(columnValues(back, 'run_id')).toEqual(Array(3).fill(run.runId));
  });

  it('overwrites a part on retry instead of adding another file', async () => {
    const uri = pathToFileURL(path.join(dir, 'part-00000.parquet')).href;
    const ids = (values: string[]) => vectorFromArray(values, new Utf8());
    await writeTablePart(store, uri, buildScoreTable(run, { customerIds: ids(['a']), scores: Float32Array.from([0.1]), bandCodes: Int32Array.from([0]), bandNames: ['low'] }, PLAYERS));
    await writeTablePart(store, uri, buildScoreTable(run, { customerIds: ids(['b', 'c']), scores: Float32Array.from([0.2, 0.3]), bandCodes: Int32Array.from([0, 0]), bandNames: ['low'] }, PLAYERS));
    expect(await fs.readdir(dir)).toEqual(['part-00000.parquet']);
    expect(columnValues(readParquetBytes(await store.get(uri)), 'customer_id')).toEqual(['b', 'c']);
  });
});
