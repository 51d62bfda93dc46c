/**
 * S3ObjectStore, RoutingObjectStore and arrow-io's ranged Parquet reads against a real S3
 * protocol server (s3rver on 127.0.0.1, started here), driven through @aws-sdk/client-s3.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { tableFromArrays, type Table } from 'apache-arrow';
import S3rver from 's3rver';
import { RoutingObjectStore, S3ObjectStore, s3ConfigFromEnv } from '@churn/object-store';
import { readParquetFooter, readRowGroups, writeParquetTable } from '@churn/arrow-io';
import { churnErrorOf } from '@churn/testing';

const BUCKET = 'churn-data';
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

interface SeenRequest {
  method: string;
  path: string;
  range?: string;
}


describe('object store over S3 (s3rver)', () => {
  let dir: string;
  let server: S3rver;
  let endpoint: string;
  let client: S3Client;
  let store: S3ObjectStore;
  const clients: S3Client[] = [];
  /** Every HTTP request the main client sent, as it went on the wire. */
  const seen: SeenRequest[] = [];

  function newClient(config: S3ClientConfig = {}): S3Client {
    const c = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS, ...config });
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-s3rver-'));
    server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: path.join(dir, 's3'),
      configureBuckets: [{ name: BUCKET }],
    });
    const { port } = await server.run();
    endpoint = `http://127.0.0.1:${port}`;
    client = newClient();
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { method?: string; path?: string; headers?: Record<string, string> };
        seen.push({ method: request.method ?? '', path: request.path ?? '', range: request.headers?.['range'] });
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordRequests' },
    );
    store = new S3ObjectStore(client);
  });

  afterAll(async () => {
    for (const c of clients) c.destroy();
    server.httpServer?.closeAllConnections();
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    seen.length = 0;
  });

  describe('s3ConfigFromEnv', () => {
    it('uses path-style addressing for a custom endpoint', () => {
      expect(s3ConfigFromEnv({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4568', AWS_REGION: 'eu-west-1' })).toMatchObject({
        region: 'eu-west-1',
        forcePathStyle: true,
        endpoint: 'http://127.0.0.1:4568',
      });
    });

    it('defaults to AWS itself: virtual-hosted style, us-east-1 unless a region is set', () => {
      const config = s3ConfigFromEnv({});
      expect(config).toMatchObject({ region: 'us-east-1', forcePathStyle: false });
      expect(config.endpoint).toBeUndefined();
      expect(s3ConfigFromEnv({ AWS_DEFAULT_REGION: 'ap-south-1' })).toMatchObject({ region: 'ap-south-1', forcePathStyle: false });
    });

    it('bounds every request: connect, response and attempts, each configurable', async () => {
      expect(s3ConfigFromEnv({})).toMatchObject({ maxAttempts: 3, requestHandler: { connectionTimeout: 5000, requestTimeout: 30_000, throwOnRequestTimeout: true } });
      const env = { CHURN_CONNECT_TIMEOUT_MS: '1000', CHURN_S3_REQUEST_TIMEOUT_MS: '2000', CHURN_S3_MAX_ATTEMPTS: '1' };
      expect(s3ConfigFromEnv(env)).toMatchObject({ maxAttempts: 1, requestHandler: { connectionTimeout: 1000, requestTimeout: 2000 } });
      expect((await churnErrorOf(() => s3ConfigFromEnv({ CHURN_S3_MAX_ATTEMPTS: '0' }))).message).toBe('CHURN_S3_MAX_ATTEMPTS must be a positive whole number, got "0"');
    });

    it('prefers the S3-specific endpoint and honours AWS_S3_FORCE_PATH_STYLE', () => {
      const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:2' };
      expect(s3ConfigFromEnv(env).endpoint).toBe('http://127.0.0.1:2');
      expect(s3ConfigFromEnv({ ...env, AWS_S3_FORCE_PATH_STYLE: 'false' }).forcePathStyle).toBe(false);
      expect(s3ConfigFromEnv({ AWS_S3_FORCE_PATH_STYLE: 'true' }).forcePathStyle).toBe(true);
    });

    it('yields a client that works against s3rver', async () => {
      const config = s3ConfigFromEnv({ AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1' });
      const envStore = new S3ObjectStore(newClient({ ...config, credentials: CREDENTIALS }));
      await envStore.put(`s3://${BUCKET}/env/hello.txt`, 'from env');
      expect(Buffer.from(await store.get(`s3://${BUCKET}/env/hello.txt`)).toString()).toBe('from env');
    });
  });

  describe('S3ObjectStore', () => {
    const bytes = Uint8Array.from({ length: 4096 }, (_, i) => (i * 13 + 7) % 256);

    it('roundtrips bytes and strings', async () => {
      await store.put(`s3://${BUCKET}/rt/blob.bin`, bytes);
      await store.put(`s3://${BUCKET}/rt/note.txt`, 'héllo, wörld');
      expect(Buffer.from(await store.get(`s3://${BUCKET}/rt/blob.bin`)).equals(Buffer.from(bytes))).toBe(true);
      expect(Buffer.from(await store.get(`s3://${BUCKET}/rt/note.txt`)).toString('utf8')).toBe('héllo, wörld');
    });

    it('roundtrips keys with partition names, spaces and non-ASCII characters', async () => {
      const uri = `s3://${BUCKET}/odd/as_of=2024-01-31/model=m-1.2/part 0 é+x.json`;
      await store.put(uri, '{"ok":true}');
      expect(Buffer.from(await store.get(uri)).toString()).toBe('{"ok":true}');
      expect((await store.list(`s3://${BUCKET}/odd/`)).map((o) => o.uri)).toEqual([uri]);
    });

    it('stores the content type it is given', async () => {
      await store.put(`s3://${BUCKET}/rt/manifest.json`, '{}', { contentType: 'application/json' });
      const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'rt/manifest.json' }));
      expect(head.ContentType).toBe('application/json');
    });

    it('heads an object with its size, and a missing one as undefined', async () => {
      await store.put(`s3://${BUCKET}/head/obj`, bytes);
      const info = await store.head(`s3://${BUCKET}/head/obj`);
      expect(info).toMatchObject({ uri: `s3://${BUCKET}/head/obj`, size: bytes.length });
      expect(Object.prototype.toString.call(info?.lastModified)).toBe('[object Date]');
      expect(await store.head(`s3://${BUCKET}/head/missing`)).toBeUndefined();
      expect(await store.head('s3://no-such-bucket/x')).toBeUndefined();
    });

    it('reads exact byte ranges with ranged GETs', async () => {
      const uri = `s3://${BUCKET}/range/blob.bin`;
      await store.put(uri, bytes);
      seen.length = 0;
      expect(Array.from(await store.getRange(uri, 0, 4))).toEqual(Array.from(bytes.subarray(0, 4)));
      expect(Array.from(await store.getRange(uri, 1000, 1100))).toEqual(Array.from(bytes.subarray(1000, 1100)));
      expect(Array.from(await store.getRange(uri, 4090, 4096))).toEqual(Array.from(bytes.subarray(4090)));
      expect(seen.filter((r) => r.method === 'GET').map((r) => r.range)).toEqual([
        'bytes=0-3',
        'bytes=1000-1099',
        'bytes=4090-4095',
      ]);
    });

    it('answers ranges past the end like a local read: truncated, or empty', async () => {
      const uri = `s3://${BUCKET}/range/blob.bin`;
      await store.put(uri, bytes);
      expect(Array.from(await store.getRange(uri, 4000, 5000))).toEqual(Array.from(bytes.subarray(4000)));
      expect((await store.getRange(uri, 5000, 6000)).byteLength).toBe(0);
      expect((await store.getRange(uri, 10, 10)).byteLength).toBe(0);
    });

    it('lists a prefix recursively, sorted, matching whole path segments', async () => {
      for (const key of ['data/z.parquet', 'data/a/2.parquet', 'data/a/10.parquet', 'data/m/deep/x.parquet', 'data2/x', 'dataset/y', 'data']) {
        await store.put(`s3://${BUCKET}/seg/${key}`, key);
      }
      const expected = ['data', 'data/a/10.parquet', 'data/a/2.parquet', 'data/m/deep/x.parquet', 'data/z.parquet'].map(
        (k) => `s3://${BUCKET}/seg/${k}`,
      );
      const listed = await store.list(`s3://${BUCKET}/seg/data`);
      expect(listed.map((o) => o.uri)).toEqual(expected);
      expect(listed.map((o) => o.size)).toEqual(expected.map((u) => u.length - `s3://${BUCKET}/seg/`.length));
      expect((await store.list(`s3://${BUCKET}/seg/data/`)).map((o) => o.uri)).toEqual(expected.slice(1));
      expect((await store.list(`s3://${BUCKET}/seg/data2`)).map((o) => o.uri)).toEqual([`s3://${BUCKET}/seg/data2/x`]);
      const all = (await store.list(`s3://${BUCKET}/seg`)).map((o) => o.uri);
      expect(all).toHaveLength(7);
      expect(all).toEqual([...all].sort());
    });

    it('lists a whole bucket', async () => {
      const uris = (await store.list(`s3://${BUCKET}`)).map((o) => o.uri);
      expect(uris.length).toBeGreaterThan(0);
      expect(uris.every((u) => u.startsWith(`s3://${BUCKET}/`))).toBe(true);
      expect(await store.list(`s3://${BUCKET}/`)).toEqual(await store.list(`s3://${BUCKET}`));
    });

    it('lists nothing for a missing prefix or a missing bucket', async () => {
      expect(await store.list(`s3://${BUCKET}/no/such/prefix/`)).toEqual([]);
      expect(await store.list('s3://no-such-bucket/prefix')).toEqual([]);
    });

    it('fails reads of a missing object with INPUT_NOT_FOUND naming it', async () => {
      for (const read of [
        () => store.get(`s3://${BUCKET}/missing.parquet`),
        () => store.getRange(`s3://${BUCKET}/missing.parquet`, 0, 8),
        () => store.get('s3://no-such-bucket/x'),
      ]) {
        const error = await churnErrorOf(read());
        expect(error.code).toBe('INPUT_NOT_FOUND');
        expect(error.retryable).toBe(false);
        expect(error.message).toMatch(/s3:\/\/(churn-data\/missing\.parquet|no-such-bucket\/x) does not exist/);
      }
    });

    it('fails a write into a missing bucket with INVALID_ARGUMENT naming the bucket', async () => {
      const error = await churnErrorOf(store.put('s3://no-such-bucket/out/x.json', '{}'));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain('"no-such-bucket"');
    });

    it('deletes an object, and deleting a missing one is fine', async () => {
      const uri = `s3://${BUCKET}/del/x`;
      await store.put(uri, 'x');
      await store.delete(uri);
      expect(await store.head(uri)).toBeUndefined();
      expect(await store.list(`s3://${BUCKET}/del`)).toEqual([]);
      await expect(store.delete(uri)).resolves.toBeUndefined();
    });

    it('creates an object only when absent (a lease), and lists ETags', async () => {
      const uri = `s3://${BUCKET}/lease/as_of=2026-01-01/model=m-1/_lease.json`;
      expect(await store.putIfAbsent(uri, '{"holder":"a"}')).toBe(true);
      expect(await store.putIfAbsent(uri, '{"holder":"b"}')).toBe(false);
      expect(Buffer.from(await store.get(uri)).toString('utf8')).toBe('{"holder":"a"}');
      const [listed] = await store.list(`s3://${BUCKET}/lease`);
      expect(listed?.etag).toMatch(/^"[0-9a-f]{32}"$/);
      expect((await store.head(uri))?.etag).toBe(listed?.etag);
    });

    it('copies an object server-side, keys with spaces and = included', async () => {
      const from = `s3://${BUCKET}/mv/_temporary/run 1/part-00000.parquet.staged`;
      const to = `s3://${BUCKET}/mv/as_of=2026-01-01/model=m-1/part-00000.parquet`;
      await store.put(from, bytes);
      await store.put(to, 'old');
      await store.copy(from, to);
      expect(Buffer.from(await store.get(to)).equals(Buffer.from(bytes))).toBe(true);
      expect(await store.head(from)).toBeDefined();
      expect(seen.some((r) => r.method === 'PUT' && r.path.endsWith('/part-00000.parquet'))).toBe(true);
    });

    it('maps an unreachable endpoint to a retryable IO_ERROR', async () => {
      // A port on 127.0.0.1 that was just free: nothing listens there.
      const probe = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(dir, 'probe') });
      const { port } = await probe.run();
      await probe.close();
      const dead = new S3ObjectStore(newClient({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 }));
      const error = await churnErrorOf(dead.get(`s3://${BUCKET}/x`));
      expect(error.code).toBe('IO_ERROR');
      expect(error.retryable).toBe(true);
      expect(error.message).toContain(`cannot read s3://${BUCKET}/x at 127.0.0.1:${port}:`);
      expect(error.details).toEqual({ uri: `s3://${BUCKET}/x`, endpoint: `127.0.0.1:${port}` });
    });
  });

  describe('RoutingObjectStore', () => {
    it('routes s3:// to the S3 client and paths to the local filesystem', async () => {
      const routing = new RoutingObjectStore(() => store);
      const local = pathToFileURL(path.join(dir, 'local/copy.bin')).href;
      await routing.put(`s3://${BUCKET}/routed/src.bin`, 'payload');
      await routing.put(local, await routing.get(`s3://${BUCKET}/routed/src.bin`));
      expect(await fs.readFile(path.join(dir, 'local/copy.bin'), 'utf8')).toBe('payload');
      expect((await routing.head(`s3://${BUCKET}/routed/src.bin`))?.size).toBe(7);
      expect((await routing.list(`s3://${BUCKET}/routed`)).map((o) => o.uri)).toEqual([`s3://${BUCKET}/routed/src.bin`]);
      expect((await routing.list(path.join(dir, 'local'))).map((o) => o.uri)).toEqual([local]);
      expect(Buffer.from(await routing.getRange(`s3://${BUCKET}/routed/src.bin`, 2, 5)).toString()).toBe('ylo');
      await routing.put(`s3://${BUCKET}/routed/r.json`, '{}', { contentType: 'application/json' });
      expect((await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'routed/r.json' }))).ContentType).toBe('application/json');
      await routing.delete(`s3://${BUCKET}/routed/src.bin`);
      expect(await routing.head(`s3://${BUCKET}/routed/src.bin`)).toBeUndefined();
    });
  });

  describe('arrow-io over S3', () => {
    const ROWS = 4000;
    const GROUP = 1000;
    const noise = (i: number, salt: number) => (((i + 1) * 2654435761 + salt * 40503) % 1000003) / 7;
    const table: Table = tableFromArrays({
      customer_id: Array.from({ length: ROWS }, (_, i) => `cust-${String(i * 7919).padStart(9, '0')}`),
      tenure_days: Int32Array.from({ length: ROWS }, (_, i) => (i * 37) % 3650),
      mrr: Float64Array.from({ length: ROWS }, (_, i) => noise(i, 1)),
      api_error_rate: Float64Array.from({ length: ROWS }, (_, i) => noise(i, 2)),
      support_tickets: Float64Array.from({ length: ROWS }, (_, i) => noise(i, 3)),
    });
    const partition = `s3://${BUCKET}/snapshots/as_of=2024-01-31/`;
    const uri = `${partition}part-00000.parquet`;
    let parquet: Uint8Array;
    let size: number;

    beforeAll(async () => {
      parquet = writeParquetTable(table, { rowGroupRows: GROUP });
      await store.put(uri, parquet);
      const listed = await store.list(partition);
      expect(listed.map((o) => o.uri)).toEqual([uri]);
      size = listed[0]?.size ?? 0;
      expect(size).toBe(parquet.byteLength);
    });

    it('reads the footer with a few small ranged GETs at the end of the object', async () => {
      const reads: Array<[number, number]> = [];
      const footer = await readParquetFooter({ store, uri, size, onRead: (s, e) => reads.push([s, e]) });
      expect(footer.numRows).toBe(ROWS);
      expect(footer.rowGroupRows).toEqual([GROUP, GROUP, GROUP, GROUP]);
      expect(footer.schema.fields.map((f) => f.name)).toEqual(['customer_id', 'tenure_days', 'mrr', 'api_error_rate', 'support_tickets']);

      // The 8-byte tail, the footer, and the page indexes the writer puts just before it.
      expect(reads.length).toBeGreaterThan(0);
      expect(reads.length).toBeLessThanOrEqual(4);
      expect(reads).toContainEqual([size - 8, size]);
      for (const [start, end] of reads) {
        expect(start).toBeGreaterThanOrEqual(size * 0.95);
        expect(end).toBeLessThanOrEqual(size);
      }
      const fetched = reads.reduce((n, [s, e]) => n + (e - s), 0);
      expect(fetched).toBeLessThan(size / 10);
      // On the wire: only ranged GETs, one per recorded read.
      const gets = seen.filter((r) => r.method === 'GET');
      expect(gets).toHaveLength(reads.length);
      expect(gets.every((r) => r.range !== undefined)).toBe(true);
    });

    it('reads one row group of two columns with far fewer bytes than the object', async () => {
      const reads: Array<[number, number]> = [];
      const result = await readRowGroups({
        store,
        uri,
        size,
        rowGroups: [2],
        columns: ['customer_id', 'mrr'],
        onRead: (s, e) => reads.push([s, e]),
      });
      expect(result.numRows).toBe(GROUP);
      expect(result.schema.fields.map((f) => f.name)).toEqual(['customer_id', 'mrr']);
      for (const i of [0, 1, 499, 999]) {
        expect(result.getChild('customer_id')?.get(i)).toBe(table.getChild('customer_id')?.get(2 * GROUP + i));
        expect(result.getChild('mrr')?.get(i)).toBe(table.getChild('mrr')?.get(2 * GROUP + i));
      }
      expect(Array.from(result.getChild('mrr')?.toArray() ?? [])).toEqual(
        Array.from((table.getChild('mrr')?.toArray() as Float64Array).subarray(2 * GROUP, 3 * GROUP)),
      );
      const fetched = reads.reduce((n, [s, e]) => n + (e - s), 0);
      expect(fetched).toBeLessThan(size / 4);
      const gets = seen.filter((r) => r.method === 'GET');
      expect(gets).toHaveLength(reads.length);
      expect(gets.every((r) => r.range !== undefined)).toBe(true);
    });

    it('rejects a truncated object on S3 with CORRUPT_INPUT naming it', async () => {
      const truncated = `${partition}part-truncated.parquet`;
      await store.put(truncated, parquet.subarray(0, Math.floor(parquet.byteLength / 2)));
      const info = await store.head(truncated);
      const error = await churnErrorOf(readParquetFooter({ store, uri: truncated, size: info?.size ?? 0 }));
      expect(error.code).toBe('CORRUPT_INPUT');
      expect(error.message).toContain(truncated);
    });
  });
});
