import { DataType, Precision, makeVector, type Data, type Table } from 'apache-arrow';

/** A float or an integer of at most 32 bits: its values buffer holds plain JS numbers. */
function isPlainNumeric(type: DataType): boolean {
  if (DataType.isInt(type)) return type.bitWidth <= 32;
  if (DataType.isFloat(type)) return type.precision !== Precision.HALF;
  return false;
}

/** Strings that are fully a number ("123", " 4.5 "); the empty string is not 0 here. */
function parseNumber(text: string): number {
  const trimmed = text.trim();
  return trimmed.length === 0 ? Number.NaN : Number(trimmed);
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') return parseNumber(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return Number.NaN;
}

/** A null test for one chunk; chunks without nulls skip the bitmap entirely. */
function nullTest(data: Data): (index: number) => boolean {
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || !bitmap || bitmap.length === 0) return () => false;
  const offset = data.offset;
  return (index) => {
    const bit = offset + index;
    return ((bitmap[bit >> 3]! >> (bit & 7)) & 1) === 0;
  };
}

/**
 * One column as Float64 values, NaN where the value is null, missing or not a number. Numbers
 * written as strings (a producer's wrong type) are parsed, so a mistyped file keeps its meaning.
 */
export function readNumericColumn(table: Table, name: string): Float64Array {
  const out = new Float64Array(table.numRows).fill(Number.NaN);
  const vector = table.getChild(name);
  if (!vector) return out;
  let base = 0;
  for (const data of vector.data) {
    const isNull = nullTest(data);
    if (isPlainNumeric(data.type)) {
      // Fast path: Data.values is already sliced to the chunk's first row; only bits use the offset.
      const values = data.values as ArrayLike<number>;
      for (let i = 0; i < data.length; i++) if (!isNull(i)) out[base + i] = values[i]!;
    } else {
      const chunk = makeVector(data);
      for (let i = 0; i < data.length; i++) {
        if (isNull(i)) continue;
        out[base + i] = toNumber(chunk.get(i));
      }
    }
    base += data.length;
  }
  return out;
}
