import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ObjectInfo, ObjectStore, PutOptions } from './object-store';
import { RoutingObjectStore } from './store-for';

/** An in-memory stand-in for the S3 backend that records what it was asked. */
class RecordingStore implements ObjectStore {
  readonly calls: string[] = [];
  readonly objects = new Map<string, { body: Uint8Array | string; options?: PutOptions }>();

  async list(prefixUri: string): Promise<ObjectInfo[]> {
    this.calls.push(`list ${prefixUri}`);
    return [...this.objects.keys()].filter((k) => k.startsWith(prefixUri)).map((uri) => ({ uri, size: 0 }));
  }
  async head(uri: string): Promise<ObjectInfo | undefined> {
    this.calls.push(`head ${uri}`);
    return this.objects.has(uri) ? { uri, size: 0 } : undefined;
  }
  async getRange(uri: string, start: number, end: number): Promise<Uint8Array> {
    this.calls.push(`getRange ${uri} ${start} ${end}`);
    return new Uint8Array(end - start);
  }
  async get(uri: string): Promise<Uint8Array> {
    this.calls.push(`get ${uri}`);
    return new Uint8Array(0);
  }
  async put(uri: string, body: Uint8Array | string, options?: PutOptions): Promise<void> {
    this.calls.push(`put ${uri}`);
    this.objects.set(uri, { body, options });
  }
  async putIfAbsent(uri: string, body: Uint8Array | string): Promise<boolean> {
    this.calls.push(`putIfAbsent ${uri}`);
    if (this.objects.has(uri)) return false;
    this.objects.set(uri, { body });
    return true;
  }
  async copy(from: string, to: string): Promise<void> {
    this.calls.push(`copy ${from} ${to}`);
  }
  async delete(uri: string): Promise<void> {
    this.calls.push(`delete ${uri}`);
    this.objects.delete(uri);
  }
}

describe('RoutingObjectStore', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-routing-'));
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('sends local locations to the filesystem and never creates the S3 backend for them', async () => {
    const makeS3 = jest.fn(() => new RecordingStore());
    const store = new RoutingObjectStore(makeS3);
    const local = pathToFileURL(path.join(dir, 'out/x.txt')).href;
    await store.put(local, 'hello');
    await store.put(path.join(dir, 'bare.txt'), 'bare');
    expect((await store.head(local))?.size).toBe(5);
    expect(Buffer.from(await store.getRange(local, 1, 3)).toString()).toBe('el');
    expect((await store.list(pathToFileURL(dir).href)).map((o) => path.basename(o.uri))).toEqual(['bare.txt', 'x.txt']);
    await store.delete(local);
    expect(makeS3).not.toHaveBeenCalled();
  });

  it('sends s3:// locations to one lazily created S3 backend, with put options', async () => {
    const s3 = new RecordingStore();
    const makeS3 = jest.fn(() => s3);
    const store = new RoutingObjectStore(makeS3);
    await store.put('s3://b/k.json', '{}', { contentType: 'application/json' });
    await store.head('s3://b/k.json');
    await store.getRange('s3://b/k.json', 0, 2);
    await store.get('s3://b/k.json');
    await store.list('s3://b/');
    await store.delete('s3://b/k.json');
    expect(makeS3).toHaveBeenCalledTimes(1);
    expect(s3.calls).toEqual([
      'put s3://b/k.json',
      'head s3://b/k.json',
      'getRange s3://b/k.json 0 2',
      'get s3://b/k.json',
      'list s3://b/',
      'delete s3://b/k.json',
    ]);
  });

  it('forwards put options to the backend', async () => {
    const s3 = new RecordingStore();
    const store = new RoutingObjectStore(() => s3);
    await store.put('s3://b/report.json', '{}', { contentType: 'application/json' });
    expect(s3.objects.get('s3://b/report.json')?.options).toEqual({ contentType: 'application/json' });
  });

  it('rejects (not throws) unsupported schemes, before touching any backend', async () => {
    const makeS3 = jest.fn(() => new RecordingStore());
    const store = new RoutingObjectStore(makeS3);
    const pending = store.get('http://example.com/x');
    await expect(pending).rejects.toMatchObject({ name: 'ChurnError', code: 'INVALID_ARGUMENT' });
    await expect(store.list('s3://')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(makeS3).not.toHaveBeenCalled();
  });
});
