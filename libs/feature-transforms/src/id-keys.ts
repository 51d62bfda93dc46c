import { DataType, type Data, type Vector } from 'apache-arrow';
import { bitSet, isValid, validityOf } from './arrow-columns';

const TWO_POW_21 = 2 ** 21;

/** Two independent 32-bit hashes of bytes [start, end), folded into one 53-bit number. */
function key53(bytes: Uint8Array, start: number, end: number): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ (end - start);
  for (let k = start; k < end; k++) {
    const byte = bytes[k]!;
    a = Math.imul(a ^ byte, 0x01000193);
    b = Math.imul(b ^ byte, 0x5bd1e995);
    b ^= b >>> 15;
  }
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b ^= b >>> 16;
  return (a >>> 0) * TWO_POW_21 + ((b >>> 0) >>> 11);
}

const encoder = new TextEncoder();

/** Keys of a chunk's rows: straight from Utf8 offsets, or once per dictionary entry. */
function chunkKeys(chunk: Data): ((i: number) => number) | undefined {
  if (DataType.isUtf8(chunk.type) && chunk.valueOffsets) {
    const offsets = chunk.valueOffsets as Int32Array;
    const bytes = chunk.values as Uint8Array;
    const valid = validityOf(chunk);
    const off = chunk.offset;
    if (!valid) return (i) => key53(bytes, offsets[i]!, offsets[i + 1]!);
    return (i) => (bitSet(valid, off + i) ? key53(bytes, offsets[i]!, offsets[i + 1]!) : Number.NaN);
  }
  const dictionary = chunk.dictionary?.data;
  if (DataType.isDictionary(chunk.type) && dictionary?.length === 1 && DataType.isUtf8(dictionary[0]!.type)) {
    const dict = dictionary[0]!;
    const offsets = dict.valueOffsets as Int32Array;
    const bytes = dict.values as Uint8Array;
    const keys = Float64Array.from({ length: dict.length }, (_, j) => (isValid(dict, j) ? key53(bytes, offsets[j]!, offsets[j + 1]!) : Number.NaN));
    const codes = chunk.values as ArrayLike<number>;
    const valid = validityOf(chunk);
    const off = chunk.offset;
    if (!valid) return (i) => keys[Number(codes[i])]!;
    return (i) => (bitSet(valid, off + i) ? keys[Number(codes[i])]! : Number.NaN);
  }
  return undefined;
}

/**
 * A 53-bit key per row of an id column, from the id's bytes (exactly representable as a
 * double, so keys sort and compare as plain numbers). Equal ids give equal keys; equal keys are
 * only candidates, confirmed against the ids themselves. Null ids get NaN. `rows` must be
 * ascending (they are: a shard's valid rows in order); chunks are walked once, without a
 * per-row allocation.
 */
export function idKeys(vector: Vector, rows: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows.length);
  const chunks = vector.data as Data[];
  let chunk = 0;
  let start = 0;
  let keysOf = chunks.length > 0 ? chunkKeys(chunks[0]!) : undefined;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    while (chunk < chunks.length - 1 && r >= start + chunks[chunk]!.length) {
      start += chunks[chunk]!.length;
      chunk++;
      keysOf = chunkKeys(chunks[chunk]!);
    }
    if (keysOf) {
      out[i] = keysOf(r - start);
      continue;
    }
    const value = vector.get(r) as unknown;
    if (value === null || value === undefined) out[i] = Number.NaN;
    else {
      const bytes = encoder.encode(String(value));
      out[i] = key53(bytes, 0, bytes.length);
    }
  }
  return out;
}
