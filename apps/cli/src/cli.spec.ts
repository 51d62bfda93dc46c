import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CliIo } from './cli-io';
import { ChurnError } from '@churn/errors';
import { buildProgram, runCli } from './cli';
import { flagsFor, renderError } from './cli-errors';
import { formatDuration, fraction, positiveInt, renderTable } from './cli-options';
import { defaultBundlePath } from './default-bundle';

function captureIo(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), isTty: false, progress: () => undefined };
}

describe('runCli', () => {
  it('prints help listing every command and exits 0', async () => {
    const io = captureIo();
    expect(await runCli(['--help'], io)).toBe(0);
    const help = io.stdout.join('\n');
    for (const command of ['synth', 'train', 'bundle', 'profile', 'score', 'demo', 'query', 'report', 'evaluate']) expect(help).toMatch(new RegExp(`\\n\\s+${command} `));
  });

  it('exits 2 on usage errors: unknown command, missing required option, bad number', async () => {
    let io = captureIo();
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/unknown command 'frobnicate'/);
    io = captureIo();
    expect(await runCli(['score', '--input', 'x'], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/required option '--output <uri>' not specified/);
    io = captureIo();
    expect(await runCli(['synth', '--customers', 'many', '--as-of', '2026-01-01', '--out', 'x'], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/expected a positive integer, got "many"/);
  });

  it('exits with the code\'s exit status and one error line naming the code when the work fails', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-cli-'));
    try {
      const io = captureIo();
      expect(await runCli(['score', '--input', path.join(dir, 'missing'), '--output', path.join(dir, 'out'), '--device', 'cpu'], io)).toBe(3);
      expect(io.stderr).toHaveLength(1);
      expect(io.stderr[0]).toMatch(/^error \[INPUT_NOT_FOUND\]: input location .*missing does not exist or is empty/);
      expect(io.stdout).toEqual([]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown device before reading anything (a usage error: exit 2)', async () => {
    const io = captureIo();
    expect(await runCli(['score', '--input', '/nonexistent', '--output', '/nonexistent-out', '--device', 'tpu'], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/option '--device <device>' argument 'tpu' is invalid\. Allowed choices are auto, cpu, cuda, webgpu/);
  });
});

describe('version and error rendering', () => {
  it('prints the version with --version and exits 0', async () => {
    const io = captureIo();
    expect(await runCli(['--version'], io, '9.8.7')).toBe(0);
    expect(io.stdout).toEqual(['9.8.7']);
    // A subcommand's own --version (the model version of churn train) is not the program's.
    const train = buildProgram(captureIo(), '9.8.7').commands.find((c) => c.name() === 'train')!;
    expect(train.options.some((o) => o.long === '--version')).toBe(true);
  });

  it("leaves a command's own --version flag to the command (churn train --version)", async () => {
    const io = captureIo();
    const code = await runCli(['train', '--data', path.join(os.tmpdir(), 'churn-no-such-data'), '--out', path.join(os.tmpdir(), 'churn-no-such-model'), '--version', '2.0.0'], io, '9.8.7');
    expect(code).toBe(3);
    expect(io.stdout).toEqual([]);
    expect(io.stderr[0]).toMatch(/^error \[INPUT_NOT_FOUND\]/);
  });

  it('suggests only the flags of the command that ran for the settings an error names', () => {
    const program = buildProgram(captureIo());
    const score = program.commands.find((c) => c.name() === 'score')!;
    const synth = program.commands.find((c) => c.name() === 'synth')!;
    const error = new ChurnError('CONTRACT_VIOLATION', 'too many bad rows', { settings: ['maxBadRowFraction', 'nonexistent'] });
    expect(flagsFor(error.settings, score)).toEqual(['--max-bad-fraction']);
    expect(renderError(error, score)).toBe('error [CONTRACT_VIOLATION]: too many bad rows (see --max-bad-fraction)');
    expect(renderError(error, synth)).toBe('error [CONTRACT_VIOLATION]: too many bad rows');
  });
});

describe('option parsers and formatting', () => {
  it('parses positive integers, with underscores and exponents', () => {
    expect(positiveInt('1_000_000')).toBe(1_000_000);
    expect(positiveInt('1e6')).toBe(1_000_000);
    expect(() => positiveInt('0')).toThrow(/positive integer/);
    expect(() => positiveInt('2.5')).toThrow(/positive integer/);
  });

  it('parses fractions in [0, 1]', () => {
    expect(fraction('0.05')).toBe(0.05);
    expect(() => fraction('1.5')).toThrow(/between 0 and 1/);
    expect(() => fraction('x')).toThrow(/between 0 and 1/);
  });

  it('formats durations and aligned tables', () => {
    expect(formatDuration(4.26)).toBe('4.3s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('?');
    expect(renderTable(['id', 'score'], [{ id: 'C1', score: 0.123456 }, { id: 'C22', score: null }])).toEqual([
      'id   score',
      '---  ------',
      'C1   0.1235',
      'C22  NULL',
    ]);
  });

  it('finds the committed default bundle from the sources', async () => {
    await expect(fs.stat(path.join(defaultBundlePath(), 'bundle.json'))).resolves.toBeDefined();
  });
});
