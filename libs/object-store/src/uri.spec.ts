import * as path from 'node:path';
import { ChurnError } from '@churn/errors';
import { baseName, joinUri, normalizeUri, parseUri } from './uri';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof ChurnError ? error.code : `not a ChurnError: ${String(error)}`;
  }
  return undefined;
}

describe('parseUri', () => {
  it('resolves a bare relative path against the working directory', () => {
    expect(parseUri('data/snapshots')).toEqual({ scheme: 'file', path: path.resolve('data/snapshots') });
  });

  it('keeps a bare absolute path', () => {
    expect(parseUri('/var/data/x.parquet')).toEqual({ scheme: 'file', path: '/var/data/x.parquet' });
  });

  it('decodes file:// URIs', () => {
    expect(parseUri('file:///tmp/a%20b/x.parquet')).toEqual({ scheme: 'file', path: '/tmp/a b/x.parquet' });
  });

  it('splits s3://bucket/key, keeping a trailing slash on the key', () => {
    expect(parseUri('s3://bucket/dataset/as_of=2024-01-31/part-0.parquet')).toEqual({
      scheme: 's3',
      bucket: 'bucket',
      key: 'dataset/as_of=2024-01-31/part-0.parquet',
    });
    expect(parseUri('s3://bucket/prefix/')).toEqual({ scheme: 's3', bucket: 'bucket', key: 'prefix/' });
    expect(parseUri('s3://bucket')).toEqual({ scheme: 's3', bucket: 'bucket', key: '' });
  });

  it('rejects s3:// without a bucket as INVALID_ARGUMENT', () => {
    expect(codeOf(() => parseUri('s3://'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseUri('s3:///key'))).toBe('INVALID_ARGUMENT');
  });

  it('rejects unsupported schemes as INVALID_ARGUMENT', () => {
    expect(codeOf(() => parseUri('http://example.com/data.parquet'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseUri('gs://bucket/key'))).toBe('INVALID_ARGUMENT');
    expect(() => parseUri('http://example.com/x')).toThrow(/unsupported location/);
  });

  it('rejects an empty location and a file URI with a remote host', () => {
    expect(codeOf(() => parseUri(''))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseUri('file://otherhost/x'))).toBe('INVALID_ARGUMENT');
  });
});

describe('normalizeUri', () => {
  it('turns bare paths into file:/// URIs, keeping a trailing slash', () => {
    expect(normalizeUri('/tmp/data')).toBe('file:///tmp/data');
    expect(normalizeUri('/tmp/data/')).toBe('file:///tmp/data/');
    expect(normalizeUri('rel/dir')).toBe(`file://${path.resolve('rel/dir')}`);
  });

  it('percent-encodes special characters of local paths', () => {
    expect(normalizeUri('/tmp/a b#c')).toBe('file:///tmp/a%20b%23c');
  });

  it('leaves canonical URIs as they are', () => {
    expect(normalizeUri('file:///tmp/x.parquet')).toBe('file:///tmp/x.parquet');
    expect(normalizeUri('s3://bucket/a/b')).toBe('s3://bucket/a/b');
    expect(normalizeUri('s3://bucket')).toBe('s3://bucket/');
  });
});

describe('joinUri', () => {
  it('joins with single slashes on s3', () => {
    expect(joinUri('s3://bucket/out/', 'as_of=2024-01-31/', '/model=m-1', 'part-00000.parquet')).toBe(
      's3://bucket/out/as_of=2024-01-31/model=m-1/part-00000.parquet',
    );
    expect(joinUri('s3://bucket', 'x')).toBe('s3://bucket/x');
    expect(joinUri('s3://bucket/out//')).toBe('s3://bucket/out');
  });

  it('joins onto local paths and file URIs', () => {
    expect(joinUri('/tmp/out', 'a/b', 'c.json')).toBe('file:///tmp/out/a/b/c.json');
    expect(joinUri('file:///tmp/out/', '_SUCCESS')).toBe('file:///tmp/out/_SUCCESS');
    expect(joinUri('file:///tmp/out/')).toBe('file:///tmp/out');
  });

  it('keeps #, ? and % inside file names instead of reading them as URL syntax', () => {
    for (const name of ['a#b.json', 'x?y', '50%', 'c%20d', 'with space']) {
      const uri = joinUri('/tmp/out', name);
      expect(parseUri(uri)).toEqual({ scheme: 'file', path: `/tmp/out/${name}` });
      expect(baseName(uri)).toBe(name);
    }
  });

  it('rejects a bad base', () => {
    expect(codeOf(() => joinUri('ftp://host/x', 'y'))).toBe('INVALID_ARGUMENT');
  });
});

describe('baseName', () => {
  it('returns the last segment, ignoring trailing slashes', () => {
    expect(baseName('s3://bucket/a/b/part-1.parquet')).toBe('part-1.parquet');
    expect(baseName('s3://bucket/a/b/')).toBe('b');
    expect(baseName('/tmp/x/y.parquet')).toBe('y.parquet');
    expect(baseName('y.parquet')).toBe('y.parquet');
  });

  it('decodes file URIs, so it names the file on disk', () => {
    expect(baseName('file:///tmp/a%20b.parquet')).toBe('a b.parquet');
    expect(baseName(normalizeUri('/tmp/a b#c.parquet'))).toBe('a b#c.parquet');
  });
});
