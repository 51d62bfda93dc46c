import {
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

export function int32Column(values: Int32Array): Vector {
  return makeVector(makeData({ type: new Int32(), length: values.length, data: values }));
}

export function stringColumn(values: readonly (string | null)[]): Vector {
  return vectorFromArray(values as (string | null)[], new Utf8());
}
