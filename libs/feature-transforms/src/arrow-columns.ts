import { DataType, Utf8, makeData, makeVector, vectorFromArray, type Data, type Vector } from 'apache-arrow';

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

/**
 * A chunk's validity bitmap when it has nulls, else undefined: read once per chunk, since
 * Arrow's `nullCount` getter is not free (it checks the type each call).
 */
export function validityOf(chunk: Data): Uint8Array | undefined {
  return chunk.nullBitmap && chunk.nullBitmap.length > 0 && chunk.nullCount > 0 ? chunk.nullBitmap : undefined;
}

/** Whether bit `bit` of an Arrow bitmap is set (validity: the row is not null). */
export function bitSet(bits: Uint8Array, bit: number): boolean {
  return ((bits[bit >> 3] ?? 0) & (1 << (bit & 7))) !== 0;
}

/** Whether row `i` of a chunk is valid (one lookup; loops hoist `validityOf` instead). */
export function isValid(chunk: Data, i: number): boolean {
  if (!chunk.nullBitmap || chunk.nullCount === 0) return true;
  return bitSet(chunk.nullBitmap, chunk.offset + i);
}

/** Per row 1 where the column is null, read from each chunk's validity bitmap. */
export function nullMask(vector: Vector): { isNull: Uint8Array; nullCount: number } {
  const isNull = new Uint8Array(vector.length);
  let nullCount = 0;
  let base = 0;
  for (const chunk of vector.data as Data[]) {
    const valid = validityOf(chunk);
    if (valid) {
      const off = chunk.offset;
      for (let i = 0; i < chunk.length; i++) {
        if (!bitSet(valid, off + i)) {
          isNull[base + i] = 1;
          nullCount++;
        }
      }
    }
    base += chunk.length;
  }
  return { isNull, nullCount };
}

/**
 * Copies an integer, float or boolean column into a Float64Array in one pass per chunk, reading
 * the Arrow buffers directly (no per-row objects). Int64 values beyond 2^53 lose precision,
 * which is irrelevant for model features.
 */
export function numericColumn(vector: Vector): NumericColumn {
  const n = vector.length;
  const values = new Float64Array(n);
  let base = 0;
  for (const chunk of vector.data as Data[]) {
    const len = chunk.length;
    const src = chunk.values as ArrayLike<number | bigint> | Uint8Array;
    const type = chunk.type as DataType;
    if (DataType.isBool(type)) {
      const bits = src as Uint8Array;
      for (let i = 0; i < len; i++) values[base + i] = bitSet(bits, chunk.offset + i) ? 1 : 0;
    } else if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
      // Arrow slices value buffers to the chunk (only bit-packed buffers keep `offset`).
      for (let i = 0; i < len; i++) values[base + i] = Number(src[i]!);
    } else if (ArrayBuffer.isView(src)) {
      // A typed-array copy converts int and float lanes natively (values are sliced to the chunk).
      values.set((src as unknown as Float64Array).subarray(0, len), base);
    } else {
      const typed = src as ArrayLike<number>;
      for (let i = 0; i < len; i++) values[base + i] = typed[i]!;
    }
    base += len;
  }
  const { isNull, nullCount } = nullMask(vector);
  if (nullCount > 0) for (let i = 0; i < n; i++) if (isNull[i]) values[i] = Number.NaN;
  return { values, isNull, nullCount };
}

/** Byte location of a string value: its buffer and [start, end), or undefined for null. */
export interface Utf8Slot {
  bytes: Uint8Array;
  start: number;
  end: number;
}

/**
 * Resolves row `i` of a Utf8 or Dictionary<_, Utf8> chunk to the bytes of its value, without
 * decoding a string. Returns undefined for null, and null when the encoding is not supported.
 */
export function utf8Slot(chunk: Data, i: number): Utf8Slot | undefined | null {
  // Arrow JS slices offset and key buffers to the chunk; only validity bitmaps keep `offset`.
  if (!isValid(chunk, i)) return undefined;
  let target = chunk;
  let j = i;
  if (DataType.isDictionary(chunk.type)) {
    const dict = chunk.dictionary?.data;
    if (!dict || dict.length !== 1) return null;
    target = dict[0]!;
    j = Number((chunk.values as ArrayLike<number>)[i]);
    if (!isValid(target, j)) return undefined;
  }
  if (!DataType.isUtf8(target.type) || !target.valueOffsets) return null;
  const offsets = target.valueOffsets as Int32Array;
  return { bytes: target.values as Uint8Array, start: offsets[j]!, end: offsets[j + 1]! };
}

function isUtf8Like(chunk: Data): boolean {
  const valueType = DataType.isDictionary(chunk.type) ? (chunk.type as { dictionary: DataType }).dictionary : chunk.type;
  return DataType.isUtf8(valueType) && (!DataType.isDictionary(chunk.type) || chunk.dictionary?.data.length === 1);
}

function sameBytes(a: Uint8Array, slot: Utf8Slot): boolean {
  if (a.length !== slot.end - slot.start) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== slot.bytes[slot.start + k]) return false;
  return true;
}

function decodeUtf8(slot: Utf8Slot): string {
  return Buffer.from(slot.bytes.buffer, slot.bytes.byteOffset, slot.bytes.byteLength).toString('utf8', slot.start, slot.end);
}

/**
 * Per-row category codes of a string column. Dictionary-encoded chunks (what Parquet readers
 * produce for low-cardinality strings) are mapped through their dictionary once, so the cost is
 * per distinct value; strings are sliced straight from Arrow's byte buffers.
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
  const byHash = new Map<number, number>();
  const categoryBytes: Uint8Array[] = [];
  let base = 0;
  for (const chunk of vector.data as Data[]) {
    const len = chunk.length;
    if (DataType.isDictionary(chunk.type) && chunk.dictionary) {
      const dict = chunk.dictionary;
      const remap = new Int32Array(dict.length).fill(-1);
      let d = 0;
      for (const dictChunk of dict.data as Data[]) {
        for (let k = 0; k < dictChunk.length; k++, d++) {
          const slot = isUtf8Like(dictChunk) ? utf8Slot(dictChunk, k) : null;
          const value = slot === null ? (dict.get(d) as unknown) : slot && decodeUtf8(slot);
          remap[d] = value === null || value === undefined ? -1 : codeOf(String(value));
        }
      }
      const keys = chunk.values as ArrayLike<number>;
      const valid = validityOf(chunk);
      const off = chunk.offset;
      if (!valid) for (let i = 0; i < len; i++) codes[base + i] = remap[Number(keys[i])]!;
      else for (let i = 0; i < len; i++) codes[base + i] = bitSet(valid, off + i) ? remap[Number(keys[i])]! : -1;
    } else if (DataType.isUtf8(chunk.type) && chunk.valueOffsets) {
      // Categories repeat. While there are few (status, plan), a row's code is found by comparing
      // its bytes with the known categories of the same length; with many, by a hash of its bytes.
      // Only new values are decoded.
      const offsets = chunk.valueOffsets as Int32Array;
      const bytes = chunk.values as Uint8Array;
      const slot: Utf8Slot = { bytes, start: 0, end: 0 };
      const valid = validityOf(chunk);
      const off = chunk.offset;
      for (let i = 0; i < len; i++) {
        if (valid && !bitSet(valid, off + i)) {
          codes[base + i] = -1;
          continue;
        }
        const start = offsets[i]!;
        const end = offsets[i + 1]!;
        const length = end - start;
        let code = -1;
        if (categories.length <= 32) {
          for (let c = 0; c < categoryBytes.length; c++) {
            const known = categoryBytes[c];
            if (known === undefined || known.length !== length) continue;
            let k = 0;
            while (k < length && known[k] === bytes[start + k]) k++;
            if (k === length) {
              code = c;
              break;
            }
          }
          if (code === -1) {
            slot.start = start;
            slot.end = end;
            code = codeOf(decodeUtf8(slot));
            if (categoryBytes[code] === undefined) categoryBytes[code] = bytes.slice(start, end);
          }
        } else {
          let h = 0x811c9dc5;
          for (let k = start; k < end; k++) h = Math.imul(h ^ bytes[k]!, 0x01000193);
          slot.start = start;
          slot.end = end;
          code = byHash.get(h & 0x3fffffff) ?? -1;
          if (code === -1 || categoryBytes[code] === undefined || !sameBytes(categoryBytes[code]!, slot)) {
            code = codeOf(decodeUtf8(slot));
            if (categoryBytes[code] === undefined) categoryBytes[code] = bytes.slice(start, end);
            if (!byHash.has(h & 0x3fffffff)) byHash.set(h & 0x3fffffff, code);
          }
        }
        codes[base + i] = code;
      }
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

/**
 * Rows whose string value already appeared on an earlier row, mapped to that first row. Hashes
 * the value bytes in place (FNV-1a into an open-addressing table) instead of building a string
 * per row, which is what made duplicate-id checks the costliest step of a shard. Returns
 * undefined for encodings it cannot read in place (the caller falls back to category codes).
 */
export function duplicateRows(vector: Vector): Map<number, number> | undefined {
  const chunks = vector.data as Data[];
  if (!chunks.every(isUtf8Like)) return undefined;
  const n = vector.length;
  const buffers: Uint8Array[] = [];
  const bufferOf = new Int32Array(n);
  const starts = new Int32Array(n);
  const ends = new Int32Array(n);
  const hashes = new Int32Array(n);
  let row = 0;
  for (const chunk of chunks) {
    if (DataType.isUtf8(chunk.type) && chunk.valueOffsets) {
      // Plain Utf8: hash straight from the offsets, no per-row slot object.
      const offsets = chunk.valueOffsets as Int32Array;
      const bytes = chunk.values as Uint8Array;
      let b = buffers.indexOf(bytes);
      if (b < 0) b = buffers.push(bytes) - 1;
      const valid = validityOf(chunk);
      const off = chunk.offset;
      for (let i = 0; i < chunk.length; i++, row++) {
        if (valid && !bitSet(valid, off + i)) {
          bufferOf[row] = -1;
          continue;
        }
        const start = offsets[i]!;
        const end = offsets[i + 1]!;
        bufferOf[row] = b;
        starts[row] = start;
        ends[row] = end;
        let h = 0x811c9dc5;
        for (let k = start; k < end; k++) h = Math.imul(h ^ bytes[k]!, 0x01000193);
        hashes[row] = h;
      }
      continue;
    }
    for (let i = 0; i < chunk.length; i++, row++) {
      const slot = utf8Slot(chunk, i);
      if (!slot) {
        bufferOf[row] = -1;
        continue;
      }
      let b = buffers.length - 1;
      if (b < 0 || buffers[b] !== slot.bytes) {
        b = buffers.indexOf(slot.bytes);
        if (b < 0) b = buffers.push(slot.bytes) - 1;
      }
      bufferOf[row] = b;
      starts[row] = slot.start;
      ends[row] = slot.end;
      let h = 0x811c9dc5;
      for (let k = slot.start; k < slot.end; k++) h = Math.imul(h ^ slot.bytes[k]!, 0x01000193);
      hashes[row] = h;
    }
  }
  const size = 1 << Math.ceil(Math.log2(Math.max(2, n * 2)));
  const table = new Int32Array(size).fill(-1);
  const equal = (a: number, b: number): boolean => {
    const la = ends[a]! - starts[a]!;
    if (la !== ends[b]! - starts[b]!) return false;
    const x = buffers[bufferOf[a]!]!;
    const y = buffers[bufferOf[b]!]!;
    for (let k = 0; k < la; k++) if (x[starts[a]! + k] !== y[starts[b]! + k]) return false;
    return true;
  };
  const out = new Map<number, number>();
  for (let r = 0; r < n; r++) {
    if (bufferOf[r] === -1) continue;
    let pos = hashes[r]! & (size - 1);
    for (;;) {
      const other = table[pos]!;
      if (other === -1) {
        table[pos] = r;
        break;
      }
      if (hashes[other] === hashes[r] && equal(other, r)) {
        out.set(r, other);
        break;
      }
      pos = (pos + 1) & (size - 1);
    }
  }
  return out;
}

/** Chunk index and chunk-local row of each of `rows` (ascending rows walk forward). */
export function locateRows(chunks: readonly Data[], rows: ArrayLike<number>): { chunkOf: Int32Array; local: Int32Array } {
  const starts = new Float64Array(chunks.length + 1);
  chunks.forEach((c, k) => (starts[k + 1] = starts[k]! + c.length));
  const n = rows.length;
  const chunkOf = new Int32Array(n);
  const local = new Int32Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    if (r < starts[k]!) k = 0;
    while (r >= starts[k + 1]!) k++;
    chunkOf[i] = k;
    local[i] = r - starts[k]!;
  }
  return { chunkOf, local };
}

/**
 * The values of `rows` of a string column as a new Utf8 vector. Utf8 and dictionary-encoded
 * input is copied byte range by byte range, without decoding a single string.
 */
export function takeStrings(vector: Vector, rows: ArrayLike<number>, categorical?: CategoricalColumn): Vector<Utf8> {
  const chunks = vector.data as Data[];
  if (!chunks.every(isUtf8Like)) {
    const { codes, categories } = categorical ?? categoricalColumn(vector);
    return vectorFromArray(Array.from(rows, (r) => (codes[r]! < 0 ? null : categories[codes[r]!]!)), new Utf8());
  }
  const n = rows.length;
  const { chunkOf, local } = locateRows(chunks, rows);
  if (chunks.every((c) => DataType.isUtf8(c.type) && c.valueOffsets)) return takePlainStrings(chunks, chunkOf, local);
  const slots = new Array<Utf8Slot | undefined>(n);
  const outOffsets = new Int32Array(n + 1);
  let size = 0;
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const slot = utf8Slot(chunks[chunkOf[i]!]!, local[i]!) ?? undefined;
    slots[i] = slot;
    if (slot) size += slot.end - slot.start;
    else nullCount++;
    outOffsets[i + 1] = size;
  }
  const data = new Uint8Array(size);
  const nullBitmap = nullCount > 0 ? new Uint8Array((n + 7) >> 3) : undefined;
  for (let i = 0; i < n; i++) {
    const slot = slots[i];
    if (slot) {
      data.set(slot.bytes.subarray(slot.start, slot.end), outOffsets[i]!);
      if (nullBitmap) nullBitmap[i >> 3]! |= 1 << (i & 7);
    }
  }
  return makeVector(makeData({ type: new Utf8(), length: n, valueOffsets: outOffsets, data, nullBitmap, nullCount }));
}

/** takeStrings for plain Utf8 chunks (ids): offsets read in place, no per-row object. */
function takePlainStrings(chunks: readonly Data[], chunkOf: Int32Array, local: Int32Array): Vector<Utf8> {
  const n = chunkOf.length;
  const offsetsOf = chunks.map((c) => c.valueOffsets as Int32Array);
  const bytesOf = chunks.map((c) => c.values as Uint8Array);
  const validOf = chunks.map(validityOf);
  const offsetOf = chunks.map((c) => c.offset);
  const outOffsets = new Int32Array(n + 1);
  let size = 0;
  let nullCount = 0;
  const isNull = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = chunkOf[i]!;
    const j = local[i]!;
    const valid = validOf[c];
    if (valid && !bitSet(valid, offsetOf[c]! + j)) {
      isNull[i] = 1;
      nullCount++;
    } else {
      const offsets = offsetsOf[c]!;
      size += offsets[j + 1]! - offsets[j]!;
    }
    outOffsets[i + 1] = size;
  }
  const data = new Uint8Array(size);
  for (let i = 0; i < n; i++) {
    if (isNull[i]) continue;
    const c = chunkOf[i]!;
    const j = local[i]!;
    const offsets = offsetsOf[c]!;
    const start = offsets[j]!;
    const end = offsets[j + 1]!;
    const bytes = bytesOf[c]!;
    let o = outOffsets[i]!;
    // Ids are short: a byte loop beats a subarray + set per row.
    for (let k = start; k < end; k++) data[o++] = bytes[k]!;
  }
  let nullBitmap: Uint8Array | undefined;
  if (nullCount > 0) {
    nullBitmap = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (!isNull[i]) nullBitmap[i >> 3]! |= 1 << (i & 7);
  }
  return makeVector(makeData({ type: new Utf8(), length: n, valueOffsets: outOffsets, data, nullBitmap, nullCount }));
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
