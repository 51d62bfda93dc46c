import {
  Bool,
  DateDay,
  Dictionary,
  Float32,
  Int32,
  TimestampMillisecond,
  Utf8,
  makeData,
  makeVector,
  vectorFromArray,
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

/** A dictionary-encoded string column from per-row codes into `categories`. */
export function categoryColumn(codes: Int32Array, categories: readonly string[]): Vector {
  return makeVector(
    makeData({
      type: new Dictionary(new Utf8(), new Int32()),
      length: codes.length,
      data: codes,
      dictionary: vectorFromArray([...categories], new Utf8()),
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
  let size = 0;
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) nullCount++;
    else size += Buffer.byteLength(v, 'utf8');
    offsets[i + 1] = size;
  }
  const data = Buffer.alloc(size);
  const nullBitmap = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    data.write(v, offsets[i]!, 'utf8');
    nullBitmap[i >> 3]! |= 1 << (i & 7);
  }
  return makeVector(
    makeData({ type: new Utf8(), length: n, valueOffsets: offsets, data: new Uint8Array(data.buffer, data.byteOffset, size), nullBitmap: nullCount > 0 ? nullBitmap : undefined, nullCount }),
  );
}
