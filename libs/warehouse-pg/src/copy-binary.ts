import { DataType, type Data, type Vector } from 'apache-arrow';
import { ChurnError } from '@churn/errors';

/**
 * Arrow record batches as PostgreSQL's binary COPY format, column by column from Arrow's buffers:
 * string bytes are copied as they are (no decode, no escaping), numbers are written from typed
 * arrays, dictionary values are encoded once per batch. No JavaScript string is built per value,
 * which is what made the text format's client side slow (number formatting and the garbage of
 * the row strings), and the server parses no number text.
 *
 * Format (PostgreSQL docs, "COPY, Binary Format"): a 19-byte header, then per row a 16-bit field
 * count and per field a 32-bit length (-1 for null) and the type's binary send form; a 16-bit -1
 * ends the data. Everything is big-endian.
 */

/** The PostgreSQL types the load writes, by the name `format_type` gives them. */
export const PG_BINARY_TYPES = ['text', 'real', 'double precision', 'bigint', 'integer', 'boolean', 'date', 'real[]'] as const;
export type PgBinaryType = (typeof PG_BINARY_TYPES)[number];

const HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
/** Days from 1970-01-01 (Arrow's epoch) to 2000-01-01 (PostgreSQL's). */
const PG_EPOCH_DAYS = 10_957;
const MS_PER_DAY = 86_400_000;
const FLOAT4_OID = 700;

/** Fills fixed-size buffers with COPY bytes and hands them out as they fill. */
export class CopyBinaryWriter {
  private buf: Buffer;
  private view: DataView;
  private pos = 0;
  private readonly full: Buffer[] = [];

  constructor(private readonly chunkBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Makes room for `n` more bytes in the current buffer. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) this.full.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(n, this.chunkBytes));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.pos = 0;
  }

  int16(v: number): void {
    this.reserve(2);
    this.view.setInt16(this.pos, v);
    this.pos += 2;
  }

  int32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }

  /** The length word and a float4. */
  float4(v: number): void {
    this.reserve(8);
    this.view.setInt32(this.pos, 4);
    this.view.setFloat32(this.pos + 4, v);
    this.pos += 8;
  }

  /** The length word and a float8. */
  float8(v: number): void {
    this.reserve(12);
    this.view.setInt32(this.pos, 8);
    this.view.setFloat64(this.pos + 4, v);
    this.pos += 12;
  }

  /** The length word and an int8 (from a safe integer). */
  int8(v: number): void {
    this.reserve(12);
    this.view.setInt32(this.pos, 8);
    this.view.setInt32(this.pos + 4, Math.floor(v / 0x1_0000_0000));
    this.view.setUint32(this.pos + 8, v >>> 0);
    this.pos += 12;
  }

  /** The length word and an int8 (from a bigint). */
  bigInt8(v: bigint): void {
    this.reserve(12);
    this.view.setInt32(this.pos, 8);
    this.view.setBigInt64(this.pos + 4, v);
    this.pos += 12;
  }

  /** The length word and an int4. */
  int4(v: number): void {
    this.reserve(8);
    this.view.setInt32(this.pos, 4);
    this.view.setInt32(this.pos + 4, v);
    this.pos += 8;
  }

  /** The length word and a bool. */
  bool(v: boolean): void {
    this.reserve(5);
    this.view.setInt32(this.pos, 1);
    this.buf[this.pos + 4] = v ? 1 : 0;
    this.pos += 5;
  }

  nullField(): void {
    this.int32(-1);
  }

  /** Raw bytes (a field already encoded with its length word). */
  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** The length word and `src[start, end)`: a string's UTF-8 bytes. */
  slice(src: Buffer, start: number, end: number): void {
    const n = end - start;
    this.reserve(4 + n);
    this.view.setInt32(this.pos, n);
    let p = this.pos + 4;
    const buf = this.buf;
    if (n < 24) for (let k = start; k < end; k++) buf[p++] = src[k]!;
    else p += src.copy(buf, p, start, end);
    this.pos = p;
  }

  /**
   * A one-dimensional float4 array field of `n` elements, element `k` from `value(k)`, null
   * where it is not finite (the caller passes NaN for a missing one).
   */
  float4Array(n: number, value: (k: number) => number): void {
    let nulls = 0;
    for (let k = 0; k < n; k++) if (!Number.isFinite(value(k))) nulls++;
    // Header (dimensions, null flag, element type, length, lower bound), then per element its
    // length word and 4 bytes, or a length word of -1 alone for a null.
    const size = 20 + 8 * n - 4 * nulls;
    this.reserve(4 + size);
    const view = this.view;
    let p = this.pos;
    view.setInt32(p, size);
    view.setInt32(p + 4, 1); // dimensions
    view.setInt32(p + 8, nulls > 0 ? 1 : 0);
    view.setInt32(p + 12, FLOAT4_OID);
    view.setInt32(p + 16, n); // the dimension's length
    view.setInt32(p + 20, 1); // and its lower bound
    p += 24;
    for (let k = 0; k < n; k++) {
      const v = value(k);
      if (Number.isFinite(v)) {
        view.setInt32(p, 4);
        view.setFloat32(p + 4, v);
        p += 8;
      } else {
        view.setInt32(p, -1);
        p += 4;
      }
    }
    this.pos = p;
  }

  /** The buffers filled so far (the current one included when `all`), handed over. */
  take(all = false): Buffer[] {
    if (all && this.pos > 0) {
      this.full.push(this.buf.subarray(0, this.pos));
      this.buf = Buffer.allocUnsafe(this.chunkBytes);
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
      this.pos = 0;
    }
    return this.full.splice(0);
  }
}

/** Writes row `i` of one column as one field (length word and value). */
export type BinaryField = (out: CopyBinaryWriter, i: number) => void;

function validity(data: Data): ((i: number) => boolean) | undefined {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return undefined;
  const bits = data.nullBitmap;
  return (i) => ((bits[i >> 3]! >> (i & 7)) & 1) === 1;
}

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

const msOf = (v: unknown) => (v instanceof Date ? v.getTime() : Number(v));

/** One value of `target` as a whole field, from whatever Arrow's getter returned. */
function writeValue(out: CopyBinaryWriter, target: PgBinaryType, column: string, v: unknown): void {
  if (v === null || v === undefined) return out.nullField();
  switch (target) {
    case 'text': {
      const bytes = Buffer.from(v instanceof Date ? v.toISOString() : String(v), 'utf8');
      return out.slice(bytes, 0, bytes.length);
    }
    case 'real':
      return out.float4(Number(v));
    case 'double precision':
      return out.float8(Number(v));
    case 'integer':
      return out.int4(Number(v));
    case 'bigint':
      return typeof v === 'bigint' ? out.bigInt8(v) : out.int8(Math.trunc(Number(v)));
    case 'boolean':
      return out.bool(Boolean(v));
    case 'date':
      return out.int4(Math.floor(msOf(v) / MS_PER_DAY) - PG_EPOCH_DAYS);
    case 'real[]':
      break;
  }
  throw new ChurnError('INTERNAL', `column ${column}: no binary COPY encoding of a single value as ${target}`, { details: { column, target } });
}

function unmapped(column: string, type: DataType, target: PgBinaryType): ChurnError {
  return new ChurnError('WAREHOUSE_UNAVAILABLE', `column ${column} has Arrow type ${String(type)}, which the warehouse load does not map to ${target}`, { details: { column, target } });
}

/** The field writer of one column of one batch (its single chunk) as PostgreSQL type `target`. */
export function binaryField(vector: Vector, column: string, target: PgBinaryType): BinaryField {
  const data = vector.data[0];
  if (!data || vector.data.length !== 1) throw new ChurnError('INTERNAL', `column ${column} has ${vector.data.length} chunks in one batch`);
  const type = data.type;
  if (target === 'real[]') throw unmapped(column, type, target);
  // A sliced batch (never one read from Parquet) goes through Arrow's getters.
  if (data.offset !== 0) return (out, i) => writeValue(out, target, column, vector.get(i));
  const valid = validity(data);
  const withNulls = (write: BinaryField): BinaryField => (valid ? (out, i) => (valid(i) ? write(out, i) : out.nullField()) : write);
  if (DataType.isDictionary(type)) {
    const dictionary = data.dictionary;
    if (!dictionary) throw new ChurnError('INTERNAL', `dictionary column ${column} has no dictionary`);
    // Each dictionary value encoded once, as a whole field; rows copy its bytes.
    const scratch = new CopyBinaryWriter(256);
    const fields: Buffer[] = [];
    for (let k = 0; k < dictionary.length; k++) {
      writeValue(scratch, target, column, dictionary.get(k));
      fields.push(Buffer.concat(scratch.take(true)));
    }
    const codes = data.values as Int32Array;
    return withNulls((out, i) => {
      const f = fields[codes[i]!];
      if (f) out.raw(f);
      else out.nullField();
    });
  }
  if ((DataType.isUtf8(type) || DataType.isLargeUtf8(type)) && target === 'text') {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = asBuffer(data.values as Uint8Array);
    return withNulls((out, i) => out.slice(bytes, offsets[i]!, offsets[i + 1]!));
  }
  if (DataType.isFloat(type) || (DataType.isInt(type) && type.bitWidth <= 32)) {
    const values = data.values as Float32Array | Float64Array | Int32Array;
    if (target === 'real') return withNulls((out, i) => out.float4(values[i]!));
    if (target === 'double precision') return withNulls((out, i) => out.float8(values[i]!));
    if (DataType.isInt(type) && target === 'integer') return withNulls((out, i) => out.int4(values[i]!));
    if (DataType.isInt(type) && target === 'bigint') return withNulls((out, i) => out.int8(values[i]!));
  }
  if (DataType.isInt(type) && type.bitWidth === 64 && target === 'bigint') {
    const values = data.values as BigInt64Array;
    return withNulls((out, i) => out.bigInt8(values[i]!));
  }
  if (DataType.isBool(type) && target === 'boolean') {
    const bits = data.values as Uint8Array;
    return withNulls((out, i) => out.bool(((bits[i >> 3]! >> (i & 7)) & 1) === 1));
  }
  if (DataType.isDate(type) && target === 'date') return withNulls((out, i) => writeValue(out, target, column, vector.get(i)));
  if (target === 'text' || DataType.isFloat(type) || DataType.isInt(type) || DataType.isBool(type)) return withNulls((out, i) => writeValue(out, target, column, vector.get(i)));
  throw unmapped(column, type, target);
}

/**
 * A `real[]` field per row from several float columns (a row's contributions, in the columns'
 * order), null where `present` says the row has none; an element is null where its column is
 * null or not finite.
 */
export function float4ArrayField(columns: readonly Vector[], present: (i: number) => boolean): BinaryField {
  const parts = columns.map((vector) => {
    const data = vector.data[0]!;
    // A sliced batch (never one read from Parquet) goes through Arrow's getters.
    const values = data.offset === 0 ? (data.values as Float32Array | Float64Array) : Float64Array.from({ length: vector.length }, (_, i) => (vector.get(i) as number | null) ?? Number.NaN);
    return { values, valid: data.offset === 0 ? validity(data) : undefined };
  });
  let row = 0;
  const element = (k: number) => {
    const p = parts[k]!;
    return p.valid && !p.valid(row) ? Number.NaN : p.values[row]!;
  };
  return (out, i) => {
    if (!present(i)) return out.nullField();
    row = i;
    out.float4Array(parts.length, element);
  };
}

/** True where a Bool column is true (and not null). */
export function boolReader(vector: Vector, column: string): (i: number) => boolean {
  const data = vector.data[0];
  if (!data || vector.data.length !== 1 || !DataType.isBool(data.type)) throw new ChurnError('INTERNAL', `column ${column} is not one chunk of booleans`);
  if (data.offset !== 0) return (i) => vector.get(i) === true;
  const bits = data.values as Uint8Array;
  const valid = validity(data);
  return (i) => ((bits[i >> 3]! >> (i & 7)) & 1) === 1 && (!valid || valid(i));
}

/**
 * Binary COPY data of batches of rows: the header, `rows` rows of each batch through its
 * fields, the trailer; buffers of about `chunkBytes` as they fill (one batch at a time, so a
 * caller can wait for the stream between them).
 */
export async function* copyBinaryChunks(batches: AsyncIterable<{ rows: number; fields: readonly BinaryField[] }>, chunkBytes = 1 << 20): AsyncGenerator<Buffer> {
  const out = new CopyBinaryWriter(chunkBytes);
  out.raw(HEADER);
  for await (const { rows, fields } of batches) {
    const width = fields.length;
    for (let i = 0; i < rows; i++) {
      out.int16(width);
      for (let c = 0; c < width; c++) fields[c]!(out, i);
      if ((i & 1023) === 1023) yield* out.take();
    }
    yield* out.take();
  }
  out.int16(-1);
  yield* out.take(true);
}
