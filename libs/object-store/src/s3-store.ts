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

function s3Error(action: string, uri: string, cause: unknown): ChurnError {
  if (isNotFound(cause)) return new ChurnError('INPUT_NOT_FOUND', `${uri} does not exist`, { cause, details: { uri } });
  const err = cause as { name?: string; message?: string };
  return new ChurnError('IO_ERROR', `cannot ${action} ${uri}: ${err?.name ?? 'Error'}: ${err?.message ?? String(cause)}`, {
    cause,
    details: { uri },
  });
}

/**
 * Client settings from the standard AWS environment. The SDK itself reads region,
 * credentials and `AWS_ENDPOINT_URL`; a custom endpoint (MinIO, s3rver) gets path-style
 * addressing unless `AWS_S3_FORCE_PATH_STYLE=false`.
 */
export function s3ConfigFromEnv(env: NodeJS.ProcessEnv = process.env): S3.S3ClientConfig {
  const endpoint = env['AWS_ENDPOINT_URL_S3'] ?? env['AWS_ENDPOINT_URL'];
  const forcePathStyle = env['AWS_S3_FORCE_PATH_STYLE'] ? env['AWS_S3_FORCE_PATH_STYLE'] === 'true' : Boolean(endpoint);
  return {
    region: env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
    forcePathStyle,
    ...(endpoint ? { endpoint } : {}),
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
          out.push({ uri: `s3://${bucket}/${item.Key}`, size: item.Size ?? 0, lastModified: item.LastModified });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (cause) {
      if ((cause as { name?: string }).name === 'NoSuchBucket') return [];
      throw s3Error('list', prefixUri, cause);
    }
    return out.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  async head(uri: string): Promise<ObjectInfo | undefined> {
    const { bucket, key } = s3Location(uri);
    try {
      const res = await this.client.send(new (sdk().HeadObjectCommand)({ Bucket: bucket, Key: key }));
      return { uri: `s3://${bucket}/${key}`, size: res.ContentLength ?? 0, lastModified: res.LastModified };
    } catch (cause) {
      if (isNotFound(cause)) return undefined;
      throw s3Error('head', uri, cause);
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
      throw s3Error('read', uri, cause);
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
      throw s3Error('write', uri, cause);
    }
  }

  async delete(uri: string): Promise<void> {
    const { bucket, key } = s3Location(uri);
    try {
      await this.client.send(new (sdk().DeleteObjectCommand)({ Bucket: bucket, Key: key }));
    } catch (cause) {
      if (isNotFound(cause)) return;
      throw s3Error('delete', uri, cause);
    }
  }
}
