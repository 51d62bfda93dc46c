/** Metadata of one stored object. */
export interface ObjectInfo {
  /** Canonical URI of the object (`file:///...` or `s3://bucket/key`). */
  uri: string;
  size: number;
  lastModified?: Date;
  /** The object's entity tag on S3 (a content fingerprint); absent for local files. */
  etag?: string;
}

export interface PutOptions {
  contentType?: string;
}

/**
 * One interface over local files and S3. Every method takes full URIs, so callers never care
 * which backend holds a location. Missing objects are `undefined` from `head`, and an
 * `INPUT_NOT_FOUND` ChurnError from reads; other failures are `IO_ERROR`.
 */
export interface ObjectStore {
  /** All objects under a prefix, recursively, sorted by URI. A missing prefix lists nothing. */
  list(prefixUri: string): Promise<ObjectInfo[]>;
  head(uri: string): Promise<ObjectInfo | undefined>;
  /** Bytes `[start, end)` of an object (a ranged GET on S3, a positioned read locally). */
  getRange(uri: string, start: number, end: number): Promise<Uint8Array>;
  get(uri: string): Promise<Uint8Array>;
  /**
   * Writes a whole object. Local writes go to a temporary file that is renamed into place, so
   * readers never see a half-written file; an S3 PUT is atomic by itself.
   */
  put(uri: string, body: Uint8Array | string, options?: PutOptions): Promise<void>;
  /**
   * Creates an object only if none exists at `uri`: true when this call created it, false when
   * one was already there. Local: an exclusive create (`O_EXCL`); S3: a conditional PUT
   * (`If-None-Match: *`). Used for leases.
   */
  putIfAbsent(uri: string, body: Uint8Array | string, options?: PutOptions): Promise<boolean>;
  /**
   * Copies an object to another key of the same store, replacing what is there: a hard link (or
   * a copy) renamed into place locally, a server-side copy on S3. Readers of `to` see the old
   * object or the new one, never a partial one.
   */
  copy(from: string, to: string): Promise<void>;
  /** Removes an object; removing a missing object is not an error. */
  delete(uri: string): Promise<void>;
}
