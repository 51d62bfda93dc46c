import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalObjectStore } from '@churn/object-store';
import { rangedBlob, type RangedBlob } from './ranged-blob';

describe('rangedBlob', () => {
  const store = new LocalObjectStore();
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);
  let dir: string;
  let uri: string;
  let reads: Array<[number, number]>;
  let blob: RangedBlob;

  const content = async (b: RangedBlob) => Array.from(new Uint8Array(await b.arrayBuffer()));
  const range = (start: number, end: number) => Array.from(bytes.subarray(start, end));

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-ranged-blob-'));
    uri = pathToFileURL(path.join(dir, 'blob.bin')).href;
    await store.put(uri, bytes);
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    reads = [];
    blob = rangedBlob({ store, uri, size: bytes.length, onRead: (s, e) => reads.push([s, e]) });
  });

  it('has the object size and reads nothing until arrayBuffer is called', async () => {
    expect(blob.size).toBe(100);
    blob.slice(10, 20).slice(2, 4);
    expect(reads).toEqual([]);
    expect(await content(blob)).toEqual(range(0, 100));
    expect(reads).toEqual([[0, 100]]);
  });

  it('slices with Blob semantics: defaults, and offsets relative to the slice', async () => {
    expect(blob.slice().size).toBe(100);
    expect(await content(blob.slice(90))).toEqual(range(90, 100));
    const middle = blob.slice(10, 60);
    expect(middle.size).toBe(50);
    const inner = middle.slice(5, 15);
    expect(inner.size).toBe(10);
    expect(await content(inner)).toEqual(range(15, 25));
    expect(reads).toEqual([
      [90, 100],
      [15, 25],
    ]);
  });

  it('counts negative offsets from the end', async () => {
    expect(await content(blob.slice(-8))).toEqual(range(92, 100));
    expect(await content(blob.slice(-8, -4))).toEqual(range(92, 96));
    expect(await content(blob.slice(10, 30).slice(-5))).toEqual(range(25, 30));
    expect(await content(blob.slice(-1000, 3))).toEqual(range(0, 3));
  });

  it('clamps to the blob and never reads outside it', async () => {
    expect(blob.slice(95, 500).size).toBe(5);
    expect(await content(blob.slice(95, 500))).toEqual(range(95, 100));
    expect(blob.slice(200, 300).size).toBe(0);
    expect(blob.slice(50, 40).size).toBe(0);
    expect(blob.slice(10, 20).slice(5, 100).size).toBe(5);
    expect(await content(blob.slice(10, 20).slice(5, 100))).toEqual(range(15, 20));
    expect(reads).toEqual([
      [95, 100],
      [15, 20],
    ]);
  });

  it('returns an ArrayBuffer holding exactly the slice', async () => {
    const buffer = await blob.slice(40, 44).arrayBuffer();
    expect(buffer).toHaveProperty('byteLength', 4);
    expect(Array.from(new Uint8Array(buffer))).toEqual([40, 41, 42, 43]);
  });
});
