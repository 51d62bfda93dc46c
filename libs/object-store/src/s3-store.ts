import type * as S3 from '@aws-sdk/client-s3';
import { ChurnError } from '@churn/errors';
import type { ObjectInfo, ObjectStore, PutOptions } from './object-store';
import { parseUri } from './uri';

/**
 * The AWS SDK, loaded on first use: it costs ~75 ms to load, most runs read local files, and
 * every shard worker thread would pay it at start-up.
 */
function sdk(): typeof S3 {
  return require('@aws-sdk/client-s3') as typeof S3;
}

function s3Location(uri: string): { bucket: string; key: string } {
  const parsed = parseUri(uri);
  if (parsed.scheme !== 's3') throw new ChurnError('INVALID_ARGUMENT', `${uri} is not an s3:// location`);
  return parsed;
}

function isNotFound(cause: unknown): boolean {
  const err = cause as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err?.name === 'NotFound' || err?.name === 'NoSuchKey' || err?.$metadata?.httpStatusCode === 404;
}

/** host:port the client sends to, for messages: the configured endpoint, or AWS's regional one. */
async function endpointOf(client: S3.S3Client): Promise<string> {
  try {
    const configured = await client.config.endpoint?.();
    if (configured) return `${configured.hostname}:${configured.port ?? (configured.protocol === 'http:' ? 80 : 443)}`;
    return `s3.${await client.config.region()}.amazonaws.com:443`;
  } catch {
    return 'the S3 endpoint';
  }
}

async function s3Error(client: S3.S3Client, action: string, uri: string, cause: unknown): Promise<ChurnError> {
  if (isNotFound(cause)) return new ChurnError('INPUT_NOT_FOUND', `${uri} does not exist`, { cause, details: { uri } });
  const err = cause as { name?: string; message?: string };
  const endpoint = await endpointOf(client);
  return new ChurnError('IO_ERROR', `cannot ${action} ${uri} at ${endpoint}: ${err?.name ?? 'Error'}: ${err?.message ?? String(cause)}`, {
    cause,
    details: { uri, endpoint },
  });
}

/** A positive whole number from the environment, or the default when unset. */
function positiveFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name] ? Number(env[name]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new ChurnError('INVALID_ARGUMENT', `${name} must be a positive whole number, got "${env[name]}"`, { details: { variable: name } });
  return value;
}

/**
 * Client settings from the standard AWS environment. The SDK itself reads region,
 * credentials and `AWS_ENDPOINT_URL`; a custom endpoint (MinIO, s3rver) gets path-style
 * addressing unless `AWS_S3_FORCE_PATH_STYLE=false`. Every request is bounded, so a dead or
 * silent endpoint fails with IO_ERROR instead of hanging: connecting within
 * `CHURN_CONNECT_TIMEOUT_MS` (5 s), response headers within `CHURN_S3_REQUEST_TIMEOUT_MS` (30 s),
 * `CHURN_S3_MAX_ATTEMPTS` (3) attempts with the SDK's backoff.
 */
export function s3ConfigFromEnv(env: NodeJS.ProcessEnv = process.env): S3.S3ClientConfig {
  const endpoint = env['AWS_ENDPOINT_URL_S3'] ?? env['AWS_ENDPOINT_URL'];
  const forcePathStyle = env['AWS_S3_FORCE_PATH_STYLE'] ? env['AWS_S3_FORCE_PATH_STYLE'] === 'true' : Boolean(endpoint);
  return {
    region: env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
    forcePathStyle,
    ...(endpoint ? { endpoint } : {}),
    maxAttempts: positiveFromEnv(env, 'CHURN_S3_MAX_ATTEMPTS', 3),
    // Options of the SDK's own Node HTTP handler (no import of @smithy/node-http-handler needed).
    requestHandler: {
      connectionTimeout: positiveFromEnv(env, 'CHURN_CONNECT_TIMEOUT_MS', 5_000),
      requestTimeout: positiveFromEnv(env, 'CHURN_S3_REQUEST_TIMEOUT_MS', 30_000),
      throwOnRequestTimeout: true,
    },
  };
}

/** `s3://bucket/key` through `@aws-sdk/client-s3`. */
export class S3ObjectStore implements ObjectStore {
  constructor(private readonly client: S3.S3Client = new (sdk().S3Client)(s3ConfigFromEnv())) {}

  async list(prefixUri: string): Promise<ObjectInfo[]> {
    const { bucket, key } = s3Location(prefixUri);
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new (sdk().ListObjectsV2Command)({ Bucket: bucket, Prefix: key, ContinuationToken: token }),
        );
        for (const item of page.Contents ?? []) {
          if (!item.Key) continue;
          // `prefix` must match whole path segments: s3://b/data must not list s3://b/data2/x.
          if (key && !key.endsWith('/') && item.Key !== key && !item.Key.startsWith(`${key}/`)) continue;
          out.push({ uri: `s3://${bucket}/${item.Key}`, size: item.Size ?? 0, lastModified: item.LastModified, ...(item.ETag ? { etag: item.ETag } : {}) });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (cause) {
      if ((cause as { name?: string }).name === 'NoSuchBucket') return [];
      throw await s3Error(this.client, 'list', prefixUri, cause);
    }
    return out.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  async head(uri: string): Promise<ObjectInfo | undefined> {
    const { bucket, key } = s3Location(uri);
    try {
      const res = await this.client.send(new (sdk().HeadObjectCommand)({ Bucket: bucket, Key: key }));
      return { uri: `s3://${bucket}/${key}`, size: res.ContentLength ?? 0, lastModified: res.LastModified, ...(res.ETag ? { etag: res.ETag } : {}) };
    } catch (cause) {
      if (isNotFound(cause)) return undefined;
      throw await s3Error(this.client, 'head', uri, cause);
    }
  }

  private async getBytes(uri: string, range?: string): Promise<Uint8Array> {
    const { bucket, key } = s3Location(uri);
    try {
      const res = await this.client.send(new (sdk().GetObjectCommand)({ Bucket: bucket, Key: key, Range: range }));
      if (!res.Body) return new Uint8Array(0);
      return await res.Body.transformToByteArray();
    } catch (cause) {
      // A range that starts past the end is a 416 on S3; answer like a local read: no bytes.
      if (range && (cause as { name?: string } | undefined)?.name === 'InvalidRange') return new Uint8Array(0);
      throw await s3Error(this.client, 'read', uri, cause);
    }
  }

  async getRange(uri: string, start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    return this.getBytes(uri, `bytes=${start}-${end - 1}`);
  }

  async get(uri: string): Promise<Uint8Array> {
    return this.getBytes(uri);
  }

  async put(uri: string, body: Uint8Array | string, options: PutOptions = {}): Promise<void> {
    const { bucket, key } = s3Location(uri);
    try {
      await this.client.send(
        new (sdk().PutObjectCommand)({ Bucket: bucket, Key: key, Body: body, ContentType: options.contentType }),
      );
    } catch (cause) {
      // Not "input not found": the output location names a bucket that is not there.
      if ((cause as { name?: string } | undefined)?.name === 'NoSuchBucket') {
        throw new ChurnError('INVALID_ARGUMENT', `cannot write ${uri}: bucket "${bucket}" does not exist`, {
          cause,
          details: { uri },
        });
      }
      throw await s3Error(this.client, 'write', uri, cause);
    }
  }

  async putIfAbsent(uri: string, body: Uint8Array | string, options: PutOptions = {}): Promise<boolean> {
    const { bucket, key } = s3Location(uri);
    // AWS S3 and MinIO honour If-None-Match on PUT; a server that ignores it (s3rver) would let a
    // second writer overwrite, so an existing object is checked for first. That narrows the race
    // on such servers to two writers checking at the same instant (docs/operations.md).
    if (await this.head(uri)) return false;
    try {
      await this.client.send(new (sdk().PutObjectCommand)({ Bucket: bucket, Key: key, Body: body, ContentType: options.contentType, IfNoneMatch: '*' }));
      return true;
    } catch (cause) {
      const err = cause as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (err.name === 'PreconditionFailed' || err.$metadata?.httpStatusCode === 412 || err.name === 'ConditionalRequestConflict' || err.$metadata?.httpStatusCode === 409) return false;
      throw await s3Error(this.client, 'write', uri, cause);
    }
  }

  async copy(from: string, to: string): Promise<void> {
    const source = s3Location(from);
    const target = s3Location(to);
    try {
      await this.client.send(
        new (sdk().CopyObjectCommand)({ Bucket: target.bucket, Key: target.key, CopySource: `${source.bucket}/${source.key.split('/').map(encodeURIComponent).join('/')}` }),
      );
    } catch (cause) {
      throw await s3Error(this.client, 'copy', `${from} to ${to}`, cause);
    }
  }

  async delete(uri: string): Promise<void> {
    const { bucket, key } = s3Location(uri);
    try {
      await this.client.send(new (sdk().DeleteObjectCommand)({ Bucket: bucket, Key: key }));
    } catch (cause) {
      if (isNotFound(cause)) return;
      throw await s3Error(this.client, 'delete', uri, cause);
    }
  }
}
