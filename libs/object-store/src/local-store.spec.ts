import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalObjectStore } from './local-store';
import { churnErrorOf } from '@churn/testing';


/** fs.Stats dates come from Node's realm, not the test sandbox's, so `instanceof Date` fails under jest. */
function isValidDate(value: unknown): boolean {
  return Object.prototype.toString.call(value) === '[object Date]' && !Number.isNaN((value as Date).getTime());
}

/** Every file under dir, relative, including hidden temporary files. */
async function filesOnDisk(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('LocalObjectStore', () => {
  const store = new LocalObjectStore();
  let dir: string;
  const uri = (rel: string) => pathToFileURL(path.join(dir, rel)).href;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-object-store-'));
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  describe('put', () => {
    it('creates parent folders and writes bytes and strings', async () => {
      await store.put(uri('a/b/c/data.bin'), new Uint8Array([0, 1, 2, 255]));
      await store.put(uri('x/y/note.txt'), 'héllo');
      expect(Array.from(await store.get(uri('a/b/c/data.bin')))).toEqual([0, 1, 2, 255]);
      expect(Buffer.from(await store.get(uri('x/y/note.txt'))).toString('utf8')).toBe('héllo');
      expect(await fs.readFile(path.join(dir, 'x/y/note.txt'), 'utf8')).toBe('héllo');
    });

    it('accepts bare paths as well as file URIs', async () => {
      await store.put(path.join(dir, 'bare.txt'), 'plain');
      expect(Buffer.from(await store.get(uri('bare.txt'))).toString()).toBe('plain');
    });

    it('is atomic: no temporary file is left and an overwrite replaces the whole object', async () => {
      await store.put(uri('out/part-0.json'), 'x'.repeat(10_000));
      await store.put(uri('out/part-0.json'), 'short');
      expect(await filesOnDisk(dir)).toEqual(['out/part-0.json']);
      expect(Buffer.from(await store.get(uri('out/part-0.json'))).toString()).toBe('short');
    });

    it('leaves one complete object and no temporary files after concurrent writes', async () => {
      const bodies = Array.from({ length: 8 }, (_, i) => String(i).repeat(50_000 + i));
      await Promise.all(bodies.map((b) => store.put(uri('race/obj'), b)));
      expect(await filesOnDisk(dir)).toEqual(['race/obj']);
      expect(bodies).toContain(Buffer.from(await store.get(uri('race/obj'))).toString());
    });

    it('fails with IO_ERROR when a parent of the path is a regular file, leaving nothing behind', async () => {
      await store.put(uri('blocker'), 'I am a file');
      for (const target of ['blocker/child.txt', 'blocker/deeper/child.txt']) {
        const error = await churnErrorOf(store.put(uri(target), 'x'));
        expect(error.code).toBe('IO_ERROR');
        expect(error.retryable).toBe(true);
        expect(error.message).toContain(uri(target));
      }
      expect(await filesOnDisk(dir)).toEqual(['blocker']);
    });

    it('rejects a non-local URI', async () => {
      expect((await churnErrorOf(store.put('s3://bucket/key', 'x'))).code).toBe('INVALID_ARGUMENT');
    });
  });

  describe('list', () => {
    it('lists recursively, sorted by URI, with sizes', async () => {
      for (const rel of ['p/z.bin', 'p/a/2.bin', 'p/a/10.bin', 'p/m/deep/er/x.bin', 'p/b.bin']) {
        await store.put(uri(rel), 'x'.repeat(rel.length));
      }
      const listed = await store.list(uri('p'));
      expect(listed.map((o) => o.uri)).toEqual(
        ['p/a/10.bin', 'p/a/2.bin', 'p/b.bin', 'p/m/deep/er/x.bin', 'p/z.bin'].map(uri),
      );
      for (const o of listed) {
        expect(o.size).toBe(path.relative(dir, new URL(o.uri).pathname).length);
        expect(isValidDate(o.lastModified)).toBe(true);
      }
      expect((await store.list(uri('p') + '/')).map((o) => o.uri)).toEqual(listed.map((o) => o.uri));
      expect((await store.list(path.join(dir, 'p'))).map((o) => o.uri)).toEqual(listed.map((o) => o.uri));
    });

    it('never lists temporary files', async () => {
      await store.put(uri('d/real.parquet'), 'x');
      await fs.writeFile(path.join(dir, 'd/.tmp-real.parquet-abc123'), 'half written');
      await fs.mkdir(path.join(dir, 'd/sub'));
      await fs.writeFile(path.join(dir, 'd/sub/.tmp-other-ffffff'), 'half written');
      expect((await store.list(uri('d'))).map((o) => o.uri)).toEqual([uri('d/real.parquet')]);
    });

    it('returns [] for a missing prefix', async () => {
      expect(await store.list(uri('nothing/here'))).toEqual([]);
      await store.put(uri('file.txt'), 'x');
      expect(await store.list(uri('file.txt/below'))).toEqual([]);
    });

    it('matches whole path segments only', async () => {
      await store.put(uri('data/x'), '1');
      await store.put(uri('data2/x'), '2');
      expect((await store.list(uri('data'))).map((o) => o.uri)).toEqual([uri('data/x')]);
    });

    it('lists a single file when the prefix is that file', async () => {
      await store.put(uri('one.parquet'), 'abc');
      expect(await store.list(uri('one.parquet'))).toEqual([
        expect.objectContaining({ uri: uri('one.parquet'), size: 3 }),
      ]);
    });

    it('follows symlinks like head and get do, without looping', async () => {
      await store.put(uri('real/part-0.parquet'), 'abcd');
      await fs.mkdir(path.join(dir, 'ds'));
      await fs.symlink(path.join(dir, 'real/part-0.parquet'), path.join(dir, 'ds/linked.parquet'));
      await fs.symlink(path.join(dir, 'real'), path.join(dir, 'ds/linked-dir'));
      await fs.symlink(path.join(dir, 'ds'), path.join(dir, 'ds/loop'));
      const listed = await store.list(uri('ds'));
      expect(listed.map((o) => [o.uri, o.size])).toEqual([
        [uri('ds/linked-dir/part-0.parquet'), 4],
        [uri('ds/linked.parquet'), 4],
      ]);
      expect((await store.head(uri('ds/linked.parquet')))?.size).toBe(4);
    });
  });

  describe('head', () => {
    it('returns size and modification time', async () => {
      await store.put(uri('h/obj'), new Uint8Array(1234));
      const info = await store.head(uri('h/obj'));
      expect(info).toMatchObject({ uri: uri('h/obj'), size: 1234 });
      expect(isValidDate(info?.lastModified)).toBe(true);
    });

    it('returns undefined for a missing object, a folder, or a path below a file', async () => {
      await store.put(uri('h/obj'), 'x');
      expect(await store.head(uri('h/missing'))).toBeUndefined();
      expect(await store.head(uri('nope/nope'))).toBeUndefined();
      expect(await store.head(uri('h'))).toBeUndefined();
      expect(await store.head(uri('h/obj/child'))).toBeUndefined();
    });
  });

  describe('getRange', () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);

    beforeEach(async () => {
      await store.put(uri('r/blob'), bytes);
    });

    it('returns exactly the bytes [start, end)', async () => {
      expect(Array.from(await store.getRange(uri('r/blob'), 0, 4))).toEqual(Array.from(bytes.subarray(0, 4)));
      expect(Array.from(await store.getRange(uri('r/blob'), 123, 456))).toEqual(Array.from(bytes.subarray(123, 456)));
      expect(Array.from(await store.getRange(uri('r/blob'), 992, 1000))).toEqual(Array.from(bytes.subarray(992)));
    });

    it('is empty for an empty range and truncated past the end', async () => {
      expect((await store.getRange(uri('r/blob'), 10, 10)).byteLength).toBe(0);
      expect((await store.getRange(uri('r/blob'), 10, 5)).byteLength).toBe(0);
      expect(Array.from(await store.getRange(uri('r/blob'), 995, 2000))).toEqual(Array.from(bytes.subarray(995)));
      expect((await store.getRange(uri('r/blob'), 5000, 6000)).byteLength).toBe(0);
    });

    it('fails with INPUT_NOT_FOUND for a missing object', async () => {
      expect((await churnErrorOf(store.getRange(uri('r/missing'), 0, 8))).code).toBe('INPUT_NOT_FOUND');
    });
  });

  describe('get', () => {
    it('fails with INPUT_NOT_FOUND naming the URI for a missing object', async () => {
      const error = await churnErrorOf(store.get(uri('missing/file.parquet')));
      expect(error.code).toBe('INPUT_NOT_FOUND');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(uri('missing/file.parquet'));
    });

    it('fails with INPUT_NOT_FOUND below a regular file', async () => {
      await store.put(uri('f'), 'x');
      expect((await churnErrorOf(store.get(uri('f/child')))).code).toBe('INPUT_NOT_FOUND');
    });

    it('returns an empty array for an empty object', async () => {
      await store.put(uri('empty'), '');
      expect((await store.get(uri('empty'))).byteLength).toBe(0);
    });
  });

  describe('putIfAbsent', () => {
    it('creates an object once: a second call, or a racing one, finds it there', async () => {
      const uri = pathToFileURL(path.join(dir, 'lease', 'x.json')).href;
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.putIfAbsent(uri, `writer ${i}`)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(new TextDecoder().decode(await store.get(uri))).toBe(`writer ${winner}`);
      expect(await store.putIfAbsent(uri, 'late')).toBe(false);
      expect((await fs.readdir(path.join(dir, 'lease'))).sort()).toEqual(['x.json']);
    });
  });

  describe('copy', () => {
    it('copies an object into place, replacing what was there, creating folders', async () => {
      const from = pathToFileURL(path.join(dir, 'staging', 'a.bin')).href;
      const to = pathToFileURL(path.join(dir, 'published', 'deep', 'a.bin')).href;
      await store.put(from, 'new');
      await store.put(to, 'old');
      await store.copy(from, to);
      expect(new TextDecoder().decode(await store.get(to))).toBe('new');
      expect(new TextDecoder().decode(await store.get(from))).toBe('new');
      expect((await fs.readdir(path.join(dir, 'published', 'deep'))).sort()).toEqual(['a.bin']);
    });

    it('fails with INPUT_NOT_FOUND when the source is missing', async () => {
      const error = await churnErrorOf(() => store.copy(pathToFileURL(path.join(dir, 'nope')).href, pathToFileURL(path.join(dir, 'x')).href));
      expect(error.code).toBe('INPUT_NOT_FOUND');
    });
  });

  describe('delete', () => {
    it('removes an object', async () => {
      await store.put(uri('del/x'), 'x');
      await store.delete(uri('del/x'));
      expect(await store.head(uri('del/x'))).toBeUndefined();
      expect(await store.list(uri('del'))).toEqual([]);
    });

    it('accepts a missing object, even below a regular file', async () => {
      await expect(store.delete(uri('del/never-existed'))).resolves.toBeUndefined();
      await store.put(uri('plain'), 'x');
      await expect(store.delete(uri('plain/child'))).resolves.toBeUndefined();
    });
  });
});
