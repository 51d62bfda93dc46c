import { DataType, type Data, type Vector } from 'apache-arrow';

/** Numeric view of a column: values as float64, NaN where the value is null. */
export interface NumericColumn {
  values: Float64Array;
  /** True where the row is null (not the same as NaN in the data, which `values` also holds). */
  isNull: Uint8Array;
  nullCount: number;
}

/** Categorical view: per-row index into `categories`, -1 for null. */
export interface CategoricalColumn {
  codes: Int32Array;
  categories: string[];
}

export type ContractType = 'string' | 'integer' | 'number' | 'boolean';

function isStringType(type: DataType): boolean {
  return DataType.isUtf8(type) || DataType.isLargeUtf8(type) || (DataType.isDictionary(type) && isStringType(type.dictionary));
}

/** Whether a column's Arrow type can be read as the contract type. */
export function arrowTypeMatches(type: DataType, expected: ContractType): boolean {
  switch (expected) {
    case 'string':
      return isStringType(type);
    case 'integer':
      return DataType.isInt(type);
    case 'number':
      return DataType.isInt(type) || DataType.isFloat(type);
    case 'boolean':
      return DataType.isBool(type);
  }
}

function isValid(chunk: Data, i: number): boolean {
  if (!chunk.nullBitmap || chunk.nullCount === 0) return true;
  const bit = chunk.offset + i;
  return ((chunk.nullBitmap[bit >> 3] ?? 0) & (1 << (bit & 7))) !== 0;
}

/**
 * Copies an integer, float or boolean column into a Float64Array in one pass per chunk, reading
 * the Arrow buffers directly (no per-row objects). Int64 values beyond 2^53 lose precision,
 * which is irrelevant for model features.
 */
export function numericColumn(vector: Vector): NumericColumn {
  const n = vector.length;
  const values = new Float64Array(n);
  const isNull = new Uint8Array(n);
  let nullCount = 0;
  let base = 0;
  for (const chunk of vector.data as Data[]) {
    const len = chunk.length;
    const src = chunk.values as ArrayLike<number | bigint> | Uint8Array;
    const type = chunk.type as DataType;
    if (DataType.isBool(type)) {
      const bits = src as Uint8Array;
      for (let i = 0; i < len; i++) {
        const bit = chunk.offset + i;
        values[base + i] = (bits[bit >> 3]! & (1 << (bit & 7))) !== 0 ? 1 : 0;
      }
    } else if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
      for (let i = 0; i < len; i++) values[base + i] = Number(src[chunk.offset + i]!);
    } else {
      const typed = src as ArrayLike<number>;
      for (let i = 0; i < len; i++) values[base + i] = typed[chunk.offset + i]!;
    }
    if (chunk.nullCount > 0) {
      for (let i = 0; i < len; i++) {
        if (!isValid(chunk, i)) {
          isNull[base + i] = 1;
          values[base + i] = Number.NaN;
          nullCount++;
        }
      }
    }
    base += len;
  }
  return { values, isNull, nullCount };
}

/**
 * Per-row category codes of a string column. Dictionary-encoded chunks (what Parquet readers
 * produce for low-cardinality strings) are mapped through their dictionary once, so the cost is
 * per distinct value, not per row.
 */
export function categoricalColumn(vector: Vector): CategoricalColumn {
  const codes = new Int32Array(vector.length);
  const categories: string[] = [];
  const index = new Map<string, number>();
  const codeOf = (value: string): number => {
    let code = index.get(value);
    if (code === undefined) {
      code = categories.length;
      categories.push(value);
      index.set(value, code);
    }
    return code;
  };
  let base = 0;
  for (const chunk of vector.data as Data[]) {
    const len = chunk.length;
    if (DataType.isDictionary(chunk.type) && chunk.dictionary) {
      const dict = chunk.dictionary;
      const remap = new Int32Array(dict.length);
      for (let d = 0; d < dict.length; d++) {
        const value = dict.get(d) as string | null;
        remap[d] = value === null ? -1 : codeOf(value);
      }
      const keys = chunk.values as ArrayLike<number>;
      for (let i = 0; i < len; i++) codes[base + i] = isValid(chunk, i) ? remap[keys[chunk.offset + i]!]! : -1;
    } else {
      for (let i = 0; i < len; i++) {
        const value = vector.get(base + i) as unknown;
        codes[base + i] = value === null || value === undefined ? -1 : codeOf(String(value));
      }
    }
    base += len;
  }
  return { codes, categories };
}

/** Row values of a column as strings (ids for output and quarantine), null where missing. */
export function stringValues(vector: Vector, rows?: ArrayLike<number>): (string | null)[] {
  const count = rows ? rows.length : vector.length;
  const out = new Array<string | null>(count);
  for (let i = 0; i < count; i++) {
    const value = vector.get(rows ? rows[i]! : i) as unknown;
    out[i] = value === null || value === undefined ? null : String(value);
  }
  return out;
}
