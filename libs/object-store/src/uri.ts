import * as path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { ChurnError } from '@churn/errors';

/** A parsed location: a local absolute path or an S3 bucket and key. */
export type ParsedUri =
  | { scheme: 'file'; path: string }
  | { scheme: 's3'; bucket: string; key: string };

/**
 * Parses `s3://bucket/key`, `file:///abs/path` or a bare path (relative paths resolve against
 * the working directory). Trailing slashes are kept on S3 keys: they mark a prefix.
 */
export function parseUri(uri: string): ParsedUri {
  if (uri.startsWith('s3://')) {
    const rest = uri.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const key = slash === -1 ? '' : rest.slice(slash + 1);
    if (!bucket) throw new ChurnError('INVALID_ARGUMENT', `"${uri}" has no bucket; expected s3://bucket/prefix`);
    return { scheme: 's3', bucket, key };
  }
  if (uri.startsWith('file://')) {
    try {
      return { scheme: 'file', path: fileURLToPath(uri) };
    } catch (cause) {
      throw new ChurnError('INVALID_ARGUMENT', `"${uri}" is not a valid file URI; use file:///absolute/path`, { cause });
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    throw new ChurnError('INVALID_ARGUMENT', `unsupported location "${uri}": use s3://bucket/prefix, file:///path or a local path`);
  }
  if (uri.length === 0) throw new ChurnError('INVALID_ARGUMENT', 'empty location');
  return { scheme: 'file', path: path.resolve(uri) };
}

/** The canonical URI form: `s3://bucket/key` or `file:///abs/path`. */
export function normalizeUri(uri: string): string {
  const parsed = parseUri(uri);
  if (parsed.scheme === 's3') return `s3://${parsed.bucket}/${parsed.key}`;
  const url = pathToFileURL(parsed.path).href;
  return uri.endsWith('/') && !url.endsWith('/') ? `${url}/` : url;
}

/**
 * Joins path segments onto a location with single slashes, whatever the scheme. Segments are
 * plain names, not URL text: on `file://` they are percent-encoded, so a `#`, `?` or `%` in a
 * name stays part of the path.
 */
export function joinUri(base: string, ...segments: string[]): string {
  const parts = segments.flatMap((s) => s.split('/')).filter((s) => s.length > 0);
  const parsed = parseUri(base);
  if (parsed.scheme === 'file') return pathToFileURL(path.join(parsed.path, ...parts)).href.replace(/\/+$/, '');
  const root = `s3://${parsed.bucket}/${parsed.key}`.replace(/\/+$/, '');
  return parts.length > 0 ? `${root}/${parts.join('/')}` : root;
}

/** The last path segment of a location (the file name; decoded for `file://` URIs). */
export function baseName(uri: string): string {
  const trimmed = uri.replace(/\/+$/, '');
  const last = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  if (!uri.startsWith('file://')) return last;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}
