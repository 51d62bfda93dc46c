import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readParquetBytes, readParquetFooter } from '@churn/arrow-io';
import { isChurnError } from '@churn/errors';
import { LocalObjectStore, joinUri } from '@churn/object-store';
import { trueChurnProbability } from './churn-probability';
import type { SynthOptions } from './synth-options';
import { writeSynthDataset } from './synth-dataset-writer';
import { synthFileTable } from './synth-table';
import { SYNTH_COLUMNS } from './synth-schema';

const store = new LocalObjectStore();
const AS_OF = '2024-06-30';
let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'synth-data-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function fileBytes(uris: string[]): Promise<Buffer[]> {
  return Promise.all(uris.map(async (uri) => Buffer.from(await store.get(uri))));
}

describe('writeSynthDataset', () => {
  const options: SynthOptions = { customers: 5_000, asOf: AS_OF, files: 3, rowGroupRows: 512, seed: 3 };

  it('writes zero-padded part files under as_of=<date> with several row groups each', async () => {
    const out = path.join(root, 'layout');
    const result = await writeSynthDataset(store, out, options);
    expect(result.partitionUri).toBe(joinUri(out, `as_of=${AS_OF}`));
    expect(result.files.map((f) => f.uri)).toEqual(
      [0, 1, 2].map((i) => joinUri(out, `as_of=${AS_OF}`, `part-0000${i}.parquet`)),
    );
    expect(result.rows).toBe(5_000);
    expect(result.files.map((f) => f.rows)).toEqual([1_666, 1_667, 1_667]);
    for (const file of result.files) {
      const info = await store.head(file.uri);
      const footer = await readParquetFooter({ store, uri: file.uri, size: info!.size });
      expect(footer.numRows).toBe(file.rows);
      expect(footer.rowGroupRows.length).toBe(file.rowGroups);
      expect(file.rowGroups).toBe(4);
      expect(footer.rowGroupRows[0]).toBe(512);
      expect(Object.values(file.faults).every((count) => count === 0)).toBe(true);
    }
  });

  it('reads back with the same schema, nullability and true probabilities', async () => {
    const result = await writeSynthDataset(store, path.join(root, 'roundtrip'), { ...options, files: 1 });
    const [bytes] = await fileBytes([result.files[0]!.uri]);
    const table = readParquetBytes(bytes!);
    expect(table.schema.fields.map((f) => f.name)).toEqual([...SYNTH_COLUMNS]);
    expect(table.schema.fields.filter((f) => f.nullable).map((f) => f.name)).toEqual(['days_since_last_login', 'nps']);
    expect(String(table.getChild('tenure_days')!.type)).toBe('Int32');
    const p = trueChurnProbability(table);
    expect(p.length).toBe(5_000);
    expect(p.every((v) => v > 0 && v < 1)).toBe(true);
    expect(Array.from(p)).toEqual(Array.from(trueChurnProbability(synthFileTable({ ...options, files: 1 }, 0))));
  });

  it('handles a single customer, dirty, in a single (mistyped) file', async () => {
    const result = await writeSynthDataset(store, path.join(root, 'one'), { customers: 1, asOf: AS_OF, files: 1, dirty: 0.5 });
    expect(result.files).toHaveLength(1);
    expect(result.files[0]).toMatchObject({ rows: 1, rowGroups: 1 });
    expect(result.files[0]!.faults['wrong_type_column']).toBe(1);
    const table = readParquetBytes(await store.get(result.files[0]!.uri));
    expect(String(table.getChild('tenure_days')!.type)).toBe('Utf8');
  });

  it('writes byte-identical files for the same seed and different ones for another', async () => {
    const first = await writeSynthDataset(store, path.join(root, 'a'), options);
    const again = await writeSynthDataset(store, path.join(root, 'b'), options);
    const other = await writeSynthDataset(store, path.join(root, 'c'), { ...options, seed: 4 });
    const [a, b, c] = await Promise.all([first, again, other].map((r) => fileBytes(r.files.map((f) => f.uri))));
    a!.forEach((bytes, i) => {
      expect(bytes.equals(b![i]!)).toBe(true);
      expect(bytes.equals(c![i]!)).toBe(false);
    });
  });

  it('removes stale part files of an earlier run with more files, and nothing else', async () => {
    const out = path.join(root, 'rerun');
    await writeSynthDataset(store, out, { ...options, files: 4 });
    const partition = joinUri(out, `as_of=${AS_OF}`);
    await store.put(joinUri(partition, 'README.txt'), 'keep me');
    await writeSynthDataset(store, out, { ...options, files: 2 });
    const names = (await store.list(partition)).map((o) => path.basename(o.uri));
    expect(names).toEqual(['README.txt', 'part-00000.parquet', 'part-00001.parquet']);
  });

  it.each<[string, Partial<SynthOptions>]>([
    ['zero customers', { customers: 0 }],
    ['fractional customers', { customers: 10.5 }],
    ['a malformed date', { asOf: '2024-6-30' }],
    ['an impossible date', { asOf: '2024-02-30' }],
    ['more files than customers', { customers: 3, files: 4 }],
    ['zero files', { files: 0 }],
    ['a negative dirty fraction', { dirty: -0.1 }],
    ['a dirty fraction above 0.5', { dirty: 0.6 }],
    ['a NaN dirty fraction', { dirty: Number.NaN }],
    ['a fractional seed', { seed: 1.5 }],
    ['zero rows per row group', { rowGroupRows: 0 }],
  ])('rejects %s with INVALID_ARGUMENT before writing anything', async (_label, bad) => {
    const out = path.join(root, 'invalid');
    const error = await writeSynthDataset(store, out, { customers: 100, asOf: AS_OF, ...bad }).catch((e: unknown) => e);
    expect(isChurnError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message.length).toBeGreaterThan(20);
    expect(await store.list(out)).toEqual([]);
  });
});
