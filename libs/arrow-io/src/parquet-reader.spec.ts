import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tableFromArrays, type Table } from 'apache-arrow';
import { ChurnError } from '@churn/errors';
import { LocalObjectStore } from '@churn/object-store';
import { readParquetFooter, readRowGroups } from './parquet-reader';
import { writeParquetTable } from './parquet-writer';
import { churnErrorOf } from '@churn/testing';

const ROWS = 1000;
const GROUP = 250;
const ids = Array.from({ length: ROWS }, (_, i) => `cust-${String(i).padStart(6, '0')}`);
// Deterministic, poorly compressible values, so row groups and columns have real sizes.
const noise = (i: number, salt: number) => (((i + 1) * 2654435761 + salt * 40503) % 1000003) / 7;
const table: Table = tableFromArrays({
  customer_id: ids,
  tenure_days: Int32Array.from({ length: ROWS }, (_, i) => i * 2),
  mrr: Float64Array.from({ length: ROWS }, (_, i) => noise(i, 1)),
  api_error_rate: Float64Array.from({ length: ROWS }, (_, i) => noise(i, 2)),
  tickets_open: Float64Array.from({ length: ROWS }, (_, i) => noise(i, 3)),
});
const FIELDS = ['customer_id', 'tenure_days', 'mrr', 'api_error_rate', 'tickets_open'];

/** Rows of an Arrow table as plain objects. */
function rowsOf(t: Table): Array<Record<string, unknown>> {
  return t.toArray().map((row) => ({ ...row.toJSON() }));
}

function expectedRows(groups: number[], columns: string[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const g of groups) {
    for (let i = g * GROUP; i < (g + 1) * GROUP; i++) {
      const row: Record<string, unknown> = {};
      for (const c of columns) row[c] = table.getChild(c)?.get(i);
      out.push(row);
    }
  }
  return out;
}


/** A local store whose ranged reads can be made to fail, like a flaky network. */
class FlakyStore extends LocalObjectStore {
  failWhen: (start: number, end: number) => boolean = () => false;
  override async getRange(uri: string, start: number, end: number): Promise<Uint8Array> {
    if (this.failWhen(start, end)) {
      throw new ChurnError('IO_ERROR', `cannot read ${uri}: connection reset`, { details: { uri } });
    }
    return super.getRange(uri, start, end);
  }
}

describe('Parquet reader over an ObjectStore', () => {
  const store = new LocalObjectStore();
  let dir: string;
  let uri: string;
  let bytes: Uint8Array;

  const at = (name: string) => pathToFileURL(path.join(dir, name)).href;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-arrow-io-'));
    bytes = writeParquetTable(table, { rowGroupRows: GROUP });
    uri = at('as_of=2024-01-31/part-0.parquet');
    await store.put(uri, bytes);
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  describe('readParquetFooter', () => {
    it('reports rows, row groups and schema', async () => {
      const info = await store.head(uri);
      expect(info?.size).toBe(bytes.byteLength);
      const footer = await readParquetFooter({ store, uri, size: bytes.byteLength });
      expect(footer.uri).toBe(uri);
      expect(footer.size).toBe(bytes.byteLength);
      expect(footer.numRows).toBe(ROWS);
      expect(footer.rowGroupRows).toEqual([GROUP, GROUP, GROUP, GROUP]);
      expect(footer.schema.fields.map((f) => f.name)).toEqual(FIELDS);
    });

    it('reads only the end of the file', async () => {
      const reads: Array<[number, number]> = [];
      await readParquetFooter({ store, uri, size: bytes.byteLength, onRead: (s, e) => reads.push([s, e]) });
      expect(reads.length).toBeGreaterThan(0);
      const fetched = reads.reduce((n, [s, e]) => n + (e - s), 0);
      expect(fetched).toBeLessThan(bytes.byteLength / 2);
      expect(reads).toContainEqual([bytes.byteLength - 8, bytes.byteLength]);
    });

    it('reports an uneven last row group', async () => {
      const odd = at('odd.parquet');
      const small = writeParquetTable(table.slice(0, 130), { rowGroupRows: 50 });
      await store.put(odd, small);
      const footer = await readParquetFooter({ store, uri: odd, size: small.byteLength });
      expect(footer.rowGroupRows).toEqual([50, 50, 30]);
      expect(footer.numRows).toBe(130);
    });
  });

  describe('readRowGroups', () => {
    it('returns exactly the selected row groups and only the selected columns', async () => {
      const result = await readRowGroups({ store, uri, size: bytes.byteLength, rowGroups: [1, 3], columns: ['customer_id', 'mrr'] });
      expect(result.schema.fields.map((f) => f.name)).toEqual(['customer_id', 'mrr']);
      expect(result.numRows).toBe(2 * GROUP);
      expect(rowsOf(result)).toEqual(expectedRows([1, 3], ['customer_id', 'mrr']));
    });

    it('returns row groups in the order asked for', async () => {
      const result = await readRowGroups({ store, uri, size: bytes.byteLength, rowGroups: [2, 0], columns: ['customer_id'] });
      expect(result.getChild('customer_id')?.get(0)).toBe(ids[2 * GROUP]);
      expect(result.getChild('customer_id')?.get(GROUP)).toBe(ids[0]);
    });

    it('returns every column in file order when all are asked for', async () => {
      const result = await readRowGroups({ store, uri, size: bytes.byteLength, rowGroups: [0], columns: [...FIELDS].reverse() });
      expect(result.schema.fields.map((f) => f.name)).toEqual(FIELDS);
      expect(rowsOf(result)).toEqual(expectedRows([0], FIELDS));
    });

    it('decodes at most `limit` rows, from the first selected row group on', async () => {
      const first = await readRowGroups({ store, uri, size: bytes.byteLength, rowGroups: [2, 3], columns: ['customer_id', 'mrr'], limit: 1 });
      expect(rowsOf(first)).toEqual(expectedRows([2], ['customer_id', 'mrr']).slice(0, 1));
      const across = await readRowGroups({ store, uri, size: bytes.byteLength, rowGroups: [1, 2], columns: ['customer_id'], limit: GROUP + 3 });
      expect(rowsOf(across)).toEqual(expectedRows([1, 2], ['customer_id']).slice(0, GROUP + 3));
    });

    it('returns an empty table for no row groups', async () => {
      const result = await readRowGroups({ store, uri, size: bytes.byteLength, rowGroups: [], columns: ['mrr'] });
      expect(result.numRows).toBe(0);
    });

    it('fetches only the selected row group and columns', async () => {
      const all: Array<[number, number]> = [];
      await readRowGroups({ store, uri, size: bytes.byteLength, rowGroups: [0, 1, 2, 3], columns: FIELDS, onRead: (s, e) => all.push([s, e]) });
      const one: Array<[number, number]> = [];
      const result = await readRowGroups({ store, uri, size: bytes.byteLength, rowGroups: [2], columns: ['tenure_days', 'mrr'], onRead: (s, e) => one.push([s, e]) });
      expect(rowsOf(result)).toEqual(expectedRows([2], ['tenure_days', 'mrr']));
      const total = (reads: Array<[number, number]>) => reads.reduce((n, [s, e]) => n + (e - s), 0);
      expect(total(all)).toBeGreaterThan(bytes.byteLength * 0.9);
      expect(total(one)).toBeLessThan(bytes.byteLength / 4);
    });

    it('rejects a row group that does not exist with INVALID_ARGUMENT (parquet-wasm would panic)', async () => {
      const error = await churnErrorOf(readRowGroups({ store, uri, size: bytes.byteLength, rowGroups: [1, 4], columns: ['mrr'] }));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain(uri);
      expect(error.message).toContain('[4]');
      expect((await churnErrorOf(readRowGroups({ store, uri, size: bytes.byteLength, rowGroups: [-1], columns: ['mrr'] }))).code).toBe('INVALID_ARGUMENT');
    });

    it('rejects a missing column with CONTRACT_VIOLATION naming it', async () => {
      const error = await churnErrorOf(readRowGroups({ store, uri, size: bytes.byteLength, rowGroups: [0], columns: ['mrr', 'seats'] }));
      expect(error.code).toBe('CONTRACT_VIOLATION');
      expect(error.message).toContain('"seats"');
      expect(error.message).toContain(uri);
    });
  });

  describe('damaged input', () => {
    const expectCorrupt = async (promise: Promise<unknown>, fileUri: string) => {
      const error = await churnErrorOf(promise);
      expect(error.code).toBe('CORRUPT_INPUT');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(fileUri);
      expect(error.details['file']).toBe(fileUri);
    };

    it('rejects a text file with CORRUPT_INPUT naming the file', async () => {
      const text = at('notes.parquet');
      const body = 'customer_id,score\n' + Array.from({ length: 200 }, (_, i) => `c${i},0.${i % 10}`).join('\n');
      await store.put(text, body);
      const size = Buffer.byteLength(body);
      await expectCorrupt(readParquetFooter({ store, uri: text, size }), text);
      await expectCorrupt(readRowGroups({ store, uri: text, size, rowGroups: [0], columns: ['customer_id'] }), text);
    });

    it('rejects the first half of a real file with CORRUPT_INPUT naming the file', async () => {
      const half = at('half.parquet');
      const body = bytes.subarray(0, Math.floor(bytes.byteLength / 2));
      await store.put(half, body);
      await expectCorrupt(readParquetFooter({ store, uri: half, size: body.byteLength }), half);
      await expectCorrupt(readRowGroups({ store, uri: half, size: body.byteLength, rowGroups: [0], columns: ['mrr'] }), half);
    });

    it('rejects a file too small to be Parquet', async () => {
      const tiny = at('tiny.parquet');
      await store.put(tiny, 'PAR1PAR1');
      await expectCorrupt(readParquetFooter({ store, uri: tiny, size: 8 }), tiny);
    });

    it('rejects, instead of crashing, when the object is shorter than the size it was listed with', async () => {
      const shrunk = at('shrunk.parquet');
      await store.put(shrunk, bytes.subarray(0, bytes.byteLength - 100));
      await expectCorrupt(readParquetFooter({ store, uri: shrunk, size: bytes.byteLength }), shrunk);
    });

    it('rejects, instead of crashing, when the footer points past the end of the object', async () => {
      // Drop bytes from the middle: the footer is intact but its offsets run past the end.
      const cut = at('cut.parquet');
      const footerStart = bytes.byteLength - 8 - Buffer.from(bytes).readUInt32LE(bytes.byteLength - 8);
      const body = new Uint8Array([...bytes.subarray(0, 4), ...bytes.subarray(footerStart - 200)]);
      await store.put(cut, body);
      const error = await churnErrorOf(readRowGroups({ store, uri: cut, size: body.byteLength, rowGroups: [0, 1, 2, 3], columns: FIELDS }));
      expect(error.code).toBe('CORRUPT_INPUT');
      expect(error.message).toContain(cut);
    });
  });

  describe('storage failures', () => {
    it('passes an I/O error during the footer read through as IO_ERROR', async () => {
      const flaky = new FlakyStore();
      flaky.failWhen = () => true;
      const error = await churnErrorOf(readParquetFooter({ store: flaky, uri, size: bytes.byteLength }));
      expect(error.code).toBe('IO_ERROR');
      expect(error.retryable).toBe(true);
    });

    it('passes an I/O error during a row group read through as IO_ERROR, and the store still works after', async () => {
      const flaky = new FlakyStore();
      const footerStart = bytes.byteLength - 8 - Buffer.from(bytes).readUInt32LE(bytes.byteLength - 8);
      flaky.failWhen = (start) => start < footerStart;
      const error = await churnErrorOf(readRowGroups({ store: flaky, uri, size: bytes.byteLength, rowGroups: [1], columns: ['mrr'] }));
      expect(error.code).toBe('IO_ERROR');
      expect(error.message).toContain('connection reset');

      flaky.failWhen = () => false;
      const result = await readRowGroups({ store: flaky, uri, size: bytes.byteLength, rowGroups: [1], columns: ['mrr'] });
      expect(rowsOf(result)).toEqual(expectedRows([1], ['mrr']));
    });

    it('maps a file deleted after listing to INPUT_NOT_FOUND', async () => {
      const gone = at('gone.parquet');
      const error = await churnErrorOf(readParquetFooter({ store, uri: gone, size: bytes.byteLength }));
      expect(error.code).toBe('INPUT_NOT_FOUND');
    });
  });
});
