import { Bool, Field, Float32, RecordBatch, Schema, Struct, makeData, vectorFromArray, type Vector } from 'apache-arrow';
import { categoryColumn, constantDate, nullableNumericColumn, stringColumn } from '@churn/warehouse';
import { binaryField, boolReader, copyBinaryChunks, CopyBinaryWriter, float4ArrayField, type BinaryField, type PgBinaryType } from './copy-binary';

/** COPY data of one batch, every buffer joined. */
async function copyData(rows: number, fields: BinaryField[], chunkBytes?: number): Promise<Buffer> {
  const out: Buffer[] = [];
  async function* one() {
    yield { rows, fields };
  }
  for await (const b of copyBinaryChunks(one(), chunkBytes)) out.push(Buffer.from(b));
  return Buffer.concat(out);
}

/** A reader of binary COPY data written for this spec from the format's description, not from the encoder. */
function parseCopy(data: Buffer): (Buffer | null)[][] {
  expect(data.subarray(0, 11)).toEqual(Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'));
  expect(data.readInt32BE(11)).toBe(0);
  expect(data.readInt32BE(15)).toBe(0);
  let p = 19;
  const rows: (Buffer | null)[][] = [];
  for (;;) {
    const n = data.readInt16BE(p);
    p += 2;
    if (n === -1) break;
    const row: (Buffer | null)[] = [];
    for (let k = 0; k < n; k++) {
      const len = data.readInt32BE(p);
      p += 4;
      row.push(len < 0 ? null : data.subarray(p, p + len));
      if (len > 0) p += len;
    }
    rows.push(row);
  }
  expect(p).toBe(data.length);
  return rows;
}

const float4 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeFloatBE(v);
  return b;
};
const field = (vector: Vector, type: PgBinaryType) => binaryField(vector, 'c', type);

describe('binary COPY encoding', () => {
  it('writes each Arrow type in the binary send form of its PostgreSQL type, -1 for null', async () => {
    const columns = {
      id: field(stringColumn(['C1', 'C\t2 é', null]), 'text'),
      band: field(categoryColumn(Int32Array.from([0, 1, -1]), ['low', 'high']), 'text'),
      score: field(vectorFromArray([0.25, 0.1, null], new Float32()), 'real'),
      mrr: field(nullableNumericColumn('number', Float64Array.from([1.5, 0, -2]), Uint8Array.from([0, 1, 0])), 'double precision'),
      seats: field(nullableNumericColumn('integer', Float64Array.from([3, -4, 2 ** 40]), new Uint8Array(3)), 'bigint'),
      flag: field(vectorFromArray([true, false, null], new Bool()), 'boolean'),
      as_of: field(constantDate('2026-07-15', 3), 'date'),
      row: field(vectorFromArray(Int32Array.from([7, -1, 0])), 'integer'),
    };
    const rows = parseCopy(await copyData(3, Object.values(columns)));
    expect(rows).toHaveLength(3);
    const hex = (b: Buffer | null | undefined) => (b ? b.toString('hex') : null);
    expect(rows.map((r) => r[0]?.toString('utf8') ?? null)).toEqual(['C1', 'C\t2 é', null]);
    expect(rows.map((r) => r[1]?.toString('utf8') ?? null)).toEqual(['low', 'high', null]);
    expect(rows.map((r) => hex(r[2]))).toEqual([float4(0.25).toString('hex'), float4(0.1).toString('hex'), null]);
    expect(rows.map((r) => (r[3] ? r[3].readDoubleBE(0) : null))).toEqual([1.5, null, -2]);
    expect(rows.map((r) => (r[4] ? r[4].readBigInt64BE(0) : null))).toEqual([3n, -4n, 2n ** 40n]);
    expect(rows.map((r) => hex(r[5]))).toEqual(['01', '00', null]);
    // Days since 2000-01-01: 2026-07-15 is 9,692 days later.
    expect(rows.map((r) => r[6]!.readInt32BE(0))).toEqual([9692, 9692, 9692]);
    expect(rows.map((r) => r[7]!.readInt32BE(0))).toEqual([7, -1, 0]);
  });

  it('writes a real[] per explained row from the contribution columns, null elements where missing or not finite', async () => {
    const a = vectorFromArray([0.5, 0, 0.25], new Float32());
    const b = vectorFromArray([-0.5, 0, null], new Float32());
    const c = vectorFromArray([1, 2, Number.POSITIVE_INFINITY], new Float32());
    const present = boolReader(vectorFromArray([true, false, true], new Bool()), 'explained');
    const rows = parseCopy(await copyData(3, [float4ArrayField([a, b, c], present)]));
    const array = (buf: Buffer | null) => {
      if (!buf) return null;
      const [dims, hasNull, oid, length, lower] = [0, 4, 8, 12, 16].map((o) => buf.readInt32BE(o));
      const values: (number | null)[] = [];
      let p = 20;
      for (let k = 0; k < length!; k++) {
        const len = buf.readInt32BE(p);
        p += 4;
        values.push(len < 0 ? null : buf.readFloatBE(p));
        if (len > 0) p += len;
      }
      expect(p).toBe(buf.length);
      return { dims, hasNull, oid, lower, values };
    };
    expect(rows.map((r) => array(r[0]!))).toEqual([
      { dims: 1, hasNull: 0, oid: 700, lower: 1, values: [0.5, -0.5, 1] },
      null,
      { dims: 1, hasNull: 1, oid: 700, lower: 1, values: [0.25, null, null] },
    ]);
  });

  it('splits the data into buffers of about the asked size, across fields and rows alike', async () => {
    const ids = stringColumn(Array.from({ length: 500 }, (_, i) => `customer-${i}-${'x'.repeat(i % 40)}`));
    const whole = await copyData(500, [field(ids, 'text')]);
    const pieces: Buffer[] = [];
    async function* one() {
      yield { rows: 500, fields: [field(ids, 'text')] };
    }
    for await (const b of copyBinaryChunks(one(), 64)) pieces.push(Buffer.from(b));
    expect(pieces.length).toBeGreaterThan(100);
    expect(Buffer.concat(pieces)).toEqual(whole);
    expect(parseCopy(whole).map((r) => r[0]!.toString())).toEqual(Array.from({ length: 500 }, (_, i) => `customer-${i}-${'x'.repeat(i % 40)}`));
  });

  it('goes through Arrow getters for a sliced batch and gives the same values', async () => {
    const fields = [new Field('id', stringColumn(['a']).type, true)];
    const ids = stringColumn(['a', 'bb', 'ccc', null]);
    const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 4, nullCount: 0, children: [ids.data[0]!] })).slice(1, 4);
    const rows = parseCopy(await copyData(3, [field(batch.getChild('id')!, 'text')]));
    expect(rows.map((r) => r[0]?.toString() ?? null)).toEqual(['bb', 'ccc', null]);
  });

  it('writes an int8 from a safe integer in two words, negative ones included', () => {
    const w = new CopyBinaryWriter(16);
    for (const v of [-1, -(2 ** 32) - 1, 2 ** 53 - 1]) w.int8(v);
    const out = Buffer.concat(w.take(true));
    expect([0, 12, 24].map((o) => out.readBigInt64BE(o + 4))).toEqual([-1n, -(2n ** 32n) - 1n, 2n ** 53n - 1n]);
  });
});
