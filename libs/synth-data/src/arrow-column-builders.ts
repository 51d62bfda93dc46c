import { Bool, Float64, Int32, Utf8, makeData, type Data } from 'apache-arrow';

/**
 * Arrow column data straight from typed arrays. Going through builders or JS string arrays
 * would cost an object per cell; a million-row snapshot has twenty million cells.
 */

/** A byte per row (1 = valid) packed into an Arrow validity bitmap, with its null count. */
function packValidity(valid: Uint8Array | undefined, length: number): { nullBitmap?: Uint8Array; nullCount: number } {
  if (!valid) return { nullCount: 0 };
  const bitmap = new Uint8Array((length + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    if (valid[i]) bitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  return nullCount === 0 ? { nullCount: 0 } : { nullBitmap: bitmap, nullCount };
}

export function int32Data(values: Int32Array, valid?: Uint8Array): Data<Int32> {
  const length = values.length;
  return makeData({ type: new Int32(), length, data: values, ...packValidity(valid, length) });
}

export function float64Data(values: Float64Array): Data<Float64> {
  return makeData({ type: new Float64(), length: values.length, nullCount: 0, data: values });
}

export function boolData(values: Uint8Array): Data<Bool> {
  const length = values.length;
  const bits = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) if (values[i]) bits[i >> 3]! |= 1 << (i & 7);
  return makeData({ type: new Bool(), length, nullCount: 0, data: bits });
}

const encoder = new TextEncoder();

/** A Utf8 column whose rows pick one of a few strings by code (categories). */
export function utf8FromCodes(codes: Uint8Array, dictionary: readonly string[], valid?: Uint8Array): Data<Utf8> {
  const length = codes.length;
  const encoded = dictionary.map((s) => encoder.encode(s));
  const { nullBitmap, nullCount } = packValidity(valid, length);
  const offsets = new Int32Array(length + 1);
  let size = 0;
  for (let i = 0; i < length; i++) {
    if (!valid || valid[i]) size += encoded[codes[i]!]!.length;
    offsets[i + 1] = size;
  }
  const bytes = new Uint8Array(size);
  for (let i = 0; i < length; i++) {
    const start = offsets[i]!;
    if (offsets[i + 1]! > start) bytes.set(encoded[codes[i]!]!, start);
  }
  return makeData({ type: new Utf8(), length, nullCount, nullBitmap, valueOffsets: offsets, data: bytes });
}

/** Customer ids "C" + 9 zero-padded digits, written byte by byte from their numbers. */
export function customerIdData(numbers: Int32Array): Data<Utf8> {
  const width = 10;
  const length = numbers.length;
  const offsets = new Int32Array(length + 1);
  const bytes = new Uint8Array(length * width);
  for (let i = 0; i < length; i++) {
    const at = i * width;
    offsets[i + 1] = at + width;
    bytes[at] = 0x43; // 'C'
    let n = numbers[i]!;
    for (let d = width - 1; d >= 1; d--) {
      bytes[at + d] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
  }
  return makeData({ type: new Utf8(), length, nullCount: 0, valueOffsets: offsets, data: bytes });
}

/** Integers as decimal strings: the "wrong Arrow type" fault (a producer that wrote text). */
export function utf8FromInts(values: Int32Array, valid?: Uint8Array): Data<Utf8> {
  const length = values.length;
  const { nullBitmap, nullCount } = packValidity(valid, length);
  const offsets = new Int32Array(length + 1);
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; i < length; i++) {
    if (!valid || valid[i]) {
      const text = String(values[i]);
      parts.push(text);
      size += text.length; // ASCII digits and '-': one byte per character
    }
    offsets[i + 1] = size;
  }
  const bytes = encoder.encode(parts.join(''));
  return makeData({ type: new Utf8(), length, nullCount, nullBitmap, valueOffsets: offsets, data: bytes });
}
