/** The part of s3rver@3 (which ships no types) that the integration tests use. */
declare module 's3rver' {
  import type { Server } from 'node:http';
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    /** 0 picks a free port; `run()` resolves with the one chosen. */
    port?: number;
    silent?: boolean;
    /** Folder that holds the buckets and objects. */
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    serviceEndpoint?: string;
    configureBuckets?: Array<{ name: string; configs?: Array<string | Buffer> }>;
  }

  class S3rver {
    constructor(options?: S3rverOptions);
    run(): Promise<AddressInfo>;
    /** One more HTTP server for the same service (same buckets and objects), on `port` at `address`. */
    listen(port: number, address: string): Promise<Server>;
    close(): Promise<void>;
    reset(): void;
    httpServer?: Server;
  }

  export = S3rver;
}
