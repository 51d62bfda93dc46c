import {
  Bool,
  Field,
  RecordBatch,
  Schema,
  Struct,
  Table,
  DateDay,
  Dictionary,
  Float32,
  Float64,
  Int32,
  Int64,
  TimestampMillisecond,
  Utf8,
  makeData,
  makeVector,
  vectorFromArray,
  type Data,
  type DataType,
  type Vector,
} from 'apache-arrow';

const DAY_MS = 86_400_000;

/** A column holding one string in every row, dictionary-encoded so it costs one index per row. */
export function constantString(value: string, length: number): Vector {
  return makeVector(
    makeData({
      type: new Dictionary(new Utf8(), new Int32()),
      length,
      data: new Int32Array(length),
      dictionary: vectorFromArray([value], new Utf8()),
    }),
  );
}

/** A dictionary-encoded string column from per-row codes into `categories`; a negative code is null. */
export function categoryColumn(codes: Int32Array, categories: readonly string[]): Vector {
  const n = codes.length;
  let nullCount = 0;
  for (let i = 0; i < n; i++) if (codes[i]! < 0) nullCount++;
  let data = codes;
  let nullBitmap: Uint8Array | undefined;
  if (nullCount > 0) {
    data = Int32Array.from(codes, (c) => Math.max(0, c));
    nullBitmap = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (codes[i]! >= 0) nullBitmap[i >> 3]! |= 1 << (i & 7);
  }
  return makeVector(
    makeData({
      type: new Dictionary(new Utf8(), new Int32()),
      length: n,
      data,
      dictionary: vectorFromArray(categories.length > 0 ? [...categories] : [''], new Utf8()),
      ...(nullBitmap ? { nullBitmap, nullCount } : { nullCount: 0 }),
    }),
  );
}

/** A Parquet DATE column with one date (YYYY-MM-DD) in every row. */
export function constantDate(isoDate: string, length: number): Vector {
  const days = Math.round(Date.parse(`${isoDate}T00:00:00Z`) / DAY_MS);
  return makeVector(makeData({ type: new DateDay(), length, data: new Int32Array(length).fill(days) }));
}

/** A UTC timestamp (milliseconds) column with one instant in every row. */
export function constantTimestamp(at: Date, length: number): Vector {
  return makeVector(
    makeData({ type: new TimestampMillisecond('UTC'), length, data: new BigInt64Array(length).fill(BigInt(at.getTime())) }),
  );
}

export function float32Column(values: Float32Array): Vector {
  return makeVector(makeData({ type: new Float32(), length: values.length, data: values }));
}

/** A float32 column whose rows are null where `valid` is 0. */
export function nullableFloat32Column(values: Float32Array, valid: Uint8Array): Vector {
  const n = values.length;
  const nullBitmap = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    if (valid[i]) nullBitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  return makeVector(makeData({ type: new Float32(), length: n, data: values, nullBitmap, nullCount }));
}

/** A boolean column from 0/1 bytes, bit-packed directly. */
export function boolColumn(values: Uint8Array): Vector {
  const n = values.length;
  const bits = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (values[i]) bits[i >> 3]! |= 1 << (i & 7);
  return makeVector(makeData({ type: new Bool(), length: n, data: bits }));
}

export function int32Column(values: Int32Array): Vector {
  return makeVector(makeData({ type: new Int32(), length: values.length, data: values }));
}

/**
 * A Utf8 column from strings (null allowed), encoded straight into Arrow's offset and byte
 * buffers: `vectorFromArray` goes through a generic builder that costs ~10x more per row, which
 * showed up when most rows are null (reason columns of unexplained rows).
 */
export function stringColumn(values: readonly (string | null)[]): Vector {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  const nullBitmap = new Uint8Array((n + 7) >> 3);
  let chars = 0;
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) nullCount++;
    else {
      chars += v.length;
      nullBitmap[i >> 3]! |= 1 << (i & 7);
    }
    offsets[i + 1] = chars;
  }
  // One encode of the whole column (join renders nulls as ''): when it is as many bytes as
  // characters, every value is ASCII and the character offsets are the byte offsets. Otherwise
  // each value is measured and written on its own (two calls per value, about 3 times slower).
  let data = Buffer.from(values.join(''), 'utf8');
  if (data.length !== chars) {
    let size = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v !== null && v !== undefined) size += Buffer.byteLength(v, 'utf8');
      offsets[i + 1] = size;
    }
    data = Buffer.alloc(size);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v !== null && v !== undefined) data.write(v, offsets[i]!, 'utf8');
    }
  }
  // A short string's bytes are a slice of Node's shared pool: copied out, so the column owns them.
  const bytes = data.byteOffset === 0 && data.buffer.byteLength === data.length ? new Uint8Array(data.buffer) : new Uint8Array(data);
  return makeVector(makeData({ type: new Utf8(), length: n, valueOffsets: offsets, data: bytes, nullBitmap: nullCount > 0 ? nullBitmap : undefined, nullCount }));
}

/** A column of `length` nulls: only a zeroed validity bitmap (and empty offsets for strings). */
export function allNullColumn(type: 'float32' | 'utf8' | 'bool', length: number): Vector {
  const nullBitmap = new Uint8Array((length + 7) >> 3);
  if (type === 'utf8') {
    return makeVector(makeData({ type: new Utf8(), length, nullCount: length, nullBitmap, valueOffsets: new Int32Array(length + 1), data: new Uint8Array(0) }));
  }
  if (type === 'bool') return makeVector(makeData({ type: new Bool(), length, nullCount: length, nullBitmap, data: new Uint8Array((length + 7) >> 3) }));
  return makeVector(makeData({ type: new Float32(), length, nullCount: length, nullBitmap, data: new Float32Array(length) }));
}

/** One column of a table to build: its vector (one chunk) and whether it may hold nulls. */
export interface ColumnSpec {
  name: string;
  vector: Vector;
  nullable: boolean;
}

/**
 * A table whose schema says which columns may hold nulls, so the Parquet file declares the
 * others REQUIRED (and the writer refuses a null in them instead of writing it).
 */
export function tableOf(columns: readonly ColumnSpec[], length: number): Table {
  const fields = columns.map((c) => new Field(c.name, c.vector.type as DataType, c.nullable));
  const children = columns.map((c) => {
    if (c.vector.data.length !== 1) throw new Error(`column ${c.name} has ${c.vector.data.length} chunks; expected one`);
    return c.vector.data[0] as Data;
  });
  const schema = new Schema(fields);
  return new Table(schema, new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children })));
}

/** Kinds of a segment column's values, as the input contract types them. */
export type SegmentKind = 'number' | 'integer' | 'boolean';

/** A numeric, integer (Int64) or boolean column from float64 values and a null mask. */
export function nullableNumericColumn(kind: SegmentKind, values: Float64Array, isNull: Uint8Array): Vector {
  const n = values.length;
  const nullBitmap = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    if (isNull[i]) nullCount++;
    else nullBitmap[i >> 3]! |= 1 << (i & 7);
  }
  const validity = nullCount > 0 ? { nullBitmap, nullCount } : { nullCount: 0 };
  if (kind === 'integer') return makeVector(makeData({ type: new Int64(), length: n, data: BigInt64Array.from(values, (v, i) => (isNull[i] ? 0n : BigInt(Math.trunc(v)))), ...validity }));
  if (kind === 'boolean') {
    const bits = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (values[i]) bits[i >> 3]! |= 1 << (i & 7);
    return makeVector(makeData({ type: new Bool(), length: n, data: bits, ...validity }));
  }
  return makeVector(makeData({ type: new Float64(), length: n, data: values, ...validity }));
}
