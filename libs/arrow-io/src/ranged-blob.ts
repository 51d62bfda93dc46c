import type { ObjectStore } from '@churn/object-store';

/**
 * The part of the Blob interface parquet-wasm's `ParquetFile.fromFile` uses: `size`, `slice` and
 * `arrayBuffer`. Backed by ranged reads on an ObjectStore, so reading a footer or a few row groups
 * fetches only those bytes, from a local file or with ranged GETs on S3.
 */
export interface RangedBlob {
  readonly size: number;
  slice(start?: number, end?: number): RangedBlob;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface RangedBlobOptions {
  store: ObjectStore;
  uri: string;
  size: number;
  /** Called with each byte range actually fetched (for tests and I/O metrics). */
  onRead?: (start: number, end: number) => void;
}

export function rangedBlob(options: RangedBlobOptions): RangedBlob {
  const { store, uri, onRead } = options;
  const make = (offset: number, length: number): RangedBlob => ({
    size: length,
    slice(start = 0, end = length) {
      const s = Math.min(Math.max(0, start < 0 ? length + start : start), length);
      const e = Math.min(Math.max(s, end < 0 ? length + end : end), length);
      return make(offset + s, e - s);
    },
    async arrayBuffer() {
      onRead?.(offset, offset + length);
      const bytes = await store.getRange(uri, offset, offset + length);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  });
  return make(0, options.size);
}
