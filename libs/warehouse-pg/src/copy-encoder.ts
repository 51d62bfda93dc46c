import { DataType, TimeUnit, type Data, type RecordBatch, type Vector } from 'apache-arrow';
import { ChurnError } from '@churn/errors';

/**
 * Arrow record batches as PostgreSQL COPY text format (tab-separated, `\N` for null, backslash
 * escapes), column by column from Arrow's buffers: strings are sliced from one decoded buffer,
 * dictionary values are escaped once per batch, numbers come straight from typed arrays.
 */

/** Encodes row `i` of a batch's column as one COPY text field. */
export type FieldEncoder = (i: number) => string;

const NULL = '\\N';
const SPECIAL = /[\\\n\r\t]/;

/** A value as a COPY text field (backslash, newline, carriage return and tab escaped). */
export function escapeCopyText(s: string): string {
  if (!SPECIAL.test(s)) return s;
  return s.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}

function validity(data: Data): ((i: number) => boolean) | undefined {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return undefined;
  const bits = data.nullBitmap;
  return (i) => ((bits[i >> 3]! >> (i & 7)) & 1) === 1;
}

const decoder = new TextDecoder();

/** Every string of a Utf8 chunk, decoded once (one decode of the buffer when it is ASCII). */
function utf8Strings(data: Data): (i: number) => string {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  let ascii = true;
  for (let k = 0; k < bytes.length; k++) {
    if (bytes[k]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    return (i) => all.slice(offsets[i]!, offsets[i + 1]!);
  }
  return (i) => decoder.decode(bytes.subarray(offsets[i]!, offsets[i + 1]!));
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

function isoDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

const TIMESTAMP_MS_PER_UNIT: Record<number, number> = { [TimeUnit.SECOND]: 1000, [TimeUnit.MILLISECOND]: 1, [TimeUnit.MICROSECOND]: 1e-3, [TimeUnit.NANOSECOND]: 1e-6 };

function genericEncoder(vector: Vector): FieldEncoder {
  return (i) => {
    const v: unknown = vector.get(i);
    if (v === null || v === undefined) return NULL;
    if (typeof v === 'boolean') return v ? 't' : 'f';
    return escapeCopyText(String(v));
  };
}

/** The field encoder of one column of one batch (its single chunk). */
export function fieldEncoder(vector: Vector, column: string): FieldEncoder {
  const data = vector.data[0];
  if (!data || vector.data.length !== 1) throw new ChurnError('INTERNAL', `column ${column} has ${vector.data.length} chunks in one batch`);
  const type = data.type;
  // Batches read from Parquet start at offset 0; a sliced one goes through Arrow's getters.
  if (data.offset !== 0) return genericEncoder(vector);
  const valid = validity(data);
  const withNulls = (enc: FieldEncoder): FieldEncoder => (valid ? (i) => (valid(i) ? enc(i) : NULL) : enc);
  if (DataType.isDictionary(type)) {
    const dictionary = data.dictionary;
    if (!dictionary) throw new ChurnError('INTERNAL', `dictionary column ${column} has no dictionary`);
    const values: string[] = [];
    for (let k = 0; k < dictionary.length; k++) {
      const v: unknown = dictionary.get(k);
      values.push(v === null || v === undefined ? NULL : escapeCopyText(String(v)));
    }
    const codes = data.values as Int32Array;
    return withNulls((i) => values[codes[i]!] ?? NULL);
  }
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) {
    const get = utf8Strings(data);
    return withNulls((i) => escapeCopyText(get(i)));
  }
  if (DataType.isFloat(type) || (DataType.isInt(type) && type.bitWidth <= 32)) {
    const values = data.values as Float32Array | Float64Array | Int32Array;
    return withNulls((i) => {
      const v = values[i]!;
      return Number.isFinite(v) ? String(v) : v !== v ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    });
  }
  if (DataType.isInt(type)) {
    const values = data.values as BigInt64Array;
    return withNulls((i) => String(values[i]!));
  }
  if (DataType.isBool(type)) {
    const bits = data.values as Uint8Array;
    return withNulls((i) => (((bits[i >> 3]! >> (i & 7)) & 1) === 1 ? 't' : 'f'));
  }
  if (DataType.isDate(type)) {
    let last = Number.NaN;
    let text = '';
    return withNulls((i) => {
      const raw: unknown = vector.get(i);
      const ms = raw instanceof Date ? raw.getTime() : Number(raw);
      if (ms !== last) {
        last = ms;
        text = isoDate(ms);
      }
      return text;
    });
  }
  if (DataType.isTimestamp(type)) {
    const values = data.values as BigInt64Array;
    const scale = TIMESTAMP_MS_PER_UNIT[type.unit] ?? 1;
    let last: bigint | undefined;
    let text = '';
    return withNulls((i) => {
      const raw = values[i]!;
      if (raw !== last) {
        last = raw;
        text = new Date(Number(raw) * scale).toISOString();
      }
      return text;
    });
  }
  throw new ChurnError('WAREHOUSE_UNAVAILABLE', `column ${column} has Arrow type ${String(type)}, which the warehouse load does not map`, { details: { column } });
}

/**
 * A jsonb object of several float columns per row (`{"<key>":value,...}`), null where `present`
 * says the row has none (contributions of rows that were not explained).
 */
export function jsonObjectEncoder(columns: readonly { key: string; vector: Vector }[], present: FieldEncoder): FieldEncoder {
  const parts = columns.map((c) => {
    const data = c.vector.data[0]!;
    // A sliced batch (never one read from Parquet) goes through Arrow's getters.
    const values = data.offset === 0 ? (data.values as Float32Array | Float64Array) : Float64Array.from({ length: c.vector.length }, (_, i) => (c.vector.get(i) as number | null) ?? Number.NaN);
    return { prefix: escapeCopyText(JSON.stringify(c.key)), values, valid: data.offset === 0 ? validity(data) : undefined };
  });
  return (i) => {
    if (present(i) !== 't') return NULL;
    let s = '{';
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k]!;
      const v = p.values[i]!;
      s += `${k > 0 ? ',' : ''}${p.prefix}:${(p.valid && !p.valid(i)) || !Number.isFinite(v) ? 'null' : String(v)}`;
    }
    return `${s}}`;
  };
}

/** A batch's rows as COPY text, `rowsPerChunk` rows per string. */
export function* copyTextChunks(batch: RecordBatch, encoders: readonly FieldEncoder[], rowsPerChunk = 4096): Generator<string> {
  const n = batch.numRows;
  const last = encoders.length - 1;
  for (let start = 0; start < n; start += rowsPerChunk) {
    const end = Math.min(n, start + rowsPerChunk);
    let s = '';
    for (let i = start; i < end; i++) {
      for (let c = 0; c < last; c++) s += `${encoders[c]!(i)}\t`;
      s += `${encoders[last]!(i)}\n`;
    }
    yield s;
  }
}
