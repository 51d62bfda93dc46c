import { ChurnError } from '@churn/errors';
import type { ObjectStore, PutOptions } from './object-store';
import { LocalObjectStore } from './local-store';
import { S3ObjectStore } from './s3-store';
import { parseUri } from './uri';

/**
 * Routes each call to the backend its URI names, so one store handles a run whose input is on
 * S3 and whose output is local. The S3 client is created on first use.
 */
export class RoutingObjectStore implements ObjectStore {
  private readonly local = new LocalObjectStore();
  private s3?: ObjectStore;

  constructor(private readonly makeS3: () => ObjectStore = () => new S3ObjectStore()) {}

  private backend(uri: string): ObjectStore {
    if (parseUri(uri).scheme === 'file') return this.local;
    this.s3 ??= this.makeS3();
    return this.s3;
  }

  // async, so a bad URI is a rejected promise like every other failure, not a synchronous throw.
  async list(prefixUri: string) { return this.backend(prefixUri).list(prefixUri); }
  async head(uri: string) { return this.backend(uri).head(uri); }
  async getRange(uri: string, start: number, end: number) { return this.backend(uri).getRange(uri, start, end); }
  async get(uri: string) { return this.backend(uri).get(uri); }
  async put(uri: string, body: Uint8Array | string, options?: PutOptions) { return this.backend(uri).put(uri, body, options); }
  async putIfAbsent(uri: string, body: Uint8Array | string, options?: PutOptions) { return this.backend(uri).putIfAbsent(uri, body, options); }
  async copy(from: string, to: string) {
    const backend = this.backend(from);
    if (backend !== this.backend(to)) throw new ChurnError('INVALID_ARGUMENT', `cannot copy ${from} to ${to}: both must be on the same store`);
    return backend.copy(from, to);
  }
  async delete(uri: string) { return this.backend(uri).delete(uri); }
}

/** A store that handles `file://`, bare paths and `s3://` (configured from the AWS environment). */
export function createObjectStore(): ObjectStore {
  return new RoutingObjectStore();
}
