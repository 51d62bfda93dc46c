/**
 * Bad input gets a clear error and nothing half-written: a non-zero exit, a message that says
 * what and where, and no `_SUCCESS` anywhere in the output.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeParquetTable } from '@churn/arrow-io';
import { exitCodeOf, type ChurnErrorCode } from '@churn/errors';
import { synthFileTable } from '@churn/synth-data';
import { churn, DEFAULT_BUNDLE, successMarkers } from './support/churn-cli';

const AS_OF = '2026-02-01';

describe('churn score refuses bad input clearly', () => {
  let dir: string;
  let good: string;

  /** A dataset folder with one partition holding the given files (name -> bytes). */
  async function dataset(name: string, files: Record<string, Uint8Array | string>): Promise<string> {
    const root = path.join(dir, name);
    await fs.mkdir(path.join(root, `as_of=${AS_OF}`), { recursive: true });
    for (const [file, bytes] of Object.entries(files)) await fs.writeFile(path.join(root, `as_of=${AS_OF}`, file), bytes);
    return root;
  }

  async function expectRefused(args: string[], ...patterns: RegExp[]): Promise<string> {
    const output = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const run = await churn(['score', ...args, ...(args.includes('--output') ? [] : ['--output', output])]);
    // The exit code is the one the error table gives the printed code.
    const code = /^error \[([A-Z_]+)\]/m.exec(run.stderr)?.[1] as ChurnErrorCode | undefined;
    expect(code).toBeDefined();
    expect(run.code).toBe(exitCodeOf(code!));
    for (const pattern of patterns) expect(run.stderr).toMatch(pattern);
    expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(await successMarkers(output)).toEqual([]);
    return run.stderr;
  }

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-bad-'));
    const table = synthFileTable({ customers: 3000, asOf: AS_OF, seed: 5, files: 1, rowGroupRows: 1000 }, 0);
    good = path.join(dir, 'good.parquet');
    await fs.writeFile(good, writeParquetTable(table, { rowGroupRows: 1000 }));
    const withoutNps = table.select(table.schema.fields.map((f) => f.name).filter((n) => n !== 'nps'));
    await fs.writeFile(path.join(dir, 'no-nps.parquet'), writeParquetTable(withoutNps, { rowGroupRows: 1000 }));
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('a missing input location', async () => {
    const missing = path.join(dir, 'nowhere');
    await expectRefused(['--input', missing], /INPUT_NOT_FOUND/, new RegExp(`${missing}.*does not exist or is empty`));
  });

  it('an empty partition', async () => {
    const root = path.join(dir, 'empty');
    await fs.mkdir(path.join(root, `as_of=${AS_OF}`), { recursive: true });
    await expectRefused(['--input', root, '--as-of', AS_OF], /INPUT_NOT_FOUND/, /as_of=2026-02-01 has no \.parquet files/);
  });

  it('a file that is not Parquet, naming the file', async () => {
    const root = await dataset('not-parquet', { 'part-00000.parquet': await fs.readFile(good), 'part-00001.parquet': 'customer_id,status\nC1,active\n' });
    await expectRefused(['--input', root], /CORRUPT_INPUT/, /part-00001\.parquet is not a readable Parquet file/);
  });

  it('a truncated Parquet file, naming the file', async () => {
    const bytes = await fs.readFile(good);
    const root = await dataset('truncated', { 'part-00000.parquet': bytes.subarray(0, Math.floor(bytes.length / 2)) });
    await expectRefused(['--input', root], /CORRUPT_INPUT/, /part-00000\.parquet/, /truncated/);
  });

  it('a missing required column, naming it and the file', async () => {
    const root = await dataset('no-column', { 'part-00000.parquet': await fs.readFile(path.join(dir, 'no-nps.parquet')) });
    await expectRefused(['--input', root], /CONTRACT_VIOLATION/, /part-00000\.parquet has no column "nps"/);
  });

  it('a bundle whose model fails its checksum', async () => {
    const bundle = path.join(dir, 'tampered-bundle');
    await fs.cp(DEFAULT_BUNDLE, bundle, { recursive: true });
    const model = await fs.readFile(path.join(bundle, 'model.onnx'));
    model[model.length - 5] = model[model.length - 5]! ^ 0xff;
    await fs.writeFile(path.join(bundle, 'model.onnx'), model);
    const root = await dataset('for-tamper', { 'part-00000.parquet': await fs.readFile(good) });
    await expectRefused(['--input', root, '--model', bundle], /INVALID_BUNDLE/, /checksum mismatch/, /model\.onnx/);
  });

  it('an unwritable output location', async () => {
    const root = await dataset('for-unwritable', { 'part-00000.parquet': await fs.readFile(good) });
    const blocker = path.join(dir, 'a-file');
    await fs.writeFile(blocker, 'not a folder');
    await expectRefused(['--input', root, '--output', path.join(blocker, 'scores')], /IO_ERROR/, /cannot (write|delete)/, /a-file/);
  });

  it('an unknown --device', async () => {
    const root = await dataset('for-device', { 'part-00000.parquet': await fs.readFile(good) });
    const run = await churn(['score', '--input', root, '--device', 'tpu', '--output', path.join(dir, 'out-device')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/option '--device <device>' argument 'tpu' is invalid\. Allowed choices are auto, cpu, cuda, webgpu/);
  });

  it('an invalid --as-of date', async () => {
    const root = await dataset('for-date', { 'part-00000.parquet': await fs.readFile(good) });
    await expectRefused(['--input', root, '--as-of', '2026-02-30'], /"2026-02-30" is not a valid as-of date/);
  });
});

describe('churn --help', () => {
  it('lists every command with a one-line description', async () => {
    const run = await churn(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['synth', 'train', 'bundle', 'profile', 'score', 'demo', 'query', 'report', 'evaluate']) {
      expect(run.stdout).toMatch(new RegExp(`^\\s+${command}\\b.*\\S`, 'm'));
    }
  });
});
