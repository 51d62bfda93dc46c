import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const CHURN_BIN = path.join(REPO_ROOT, 'bin', 'churn.js');
export const DEFAULT_BUNDLE = path.join(REPO_ROOT, 'models', 'churn-mlp');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The last stdout line parsed as JSON (the command's summary), when it is JSON. */
  summary: Record<string, unknown> | undefined;
}

/** Runs the built `churn` binary as a user would, with a bounded time. */
export function churn(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHURN_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 100_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let summary: Record<string, unknown> | undefined;
      try {
        summary = last.startsWith('{') ? (JSON.parse(last) as Record<string, unknown>) : undefined;
      } catch {
        summary = undefined;
      }
      resolve({ code: code ?? -1, stdout, stderr, summary });
    });
  });
}

/** A long-running `churn` process (worker, producer), started and stopped by a test. */
export interface ChurnProcess {
  child: ChildProcess;
  /** Everything it wrote so far, stdout (its log lines) and stderr interleaved as they came. */
  log(): string;
  /** Its stdout alone so far: the log lines, one JSON object each with CHURN_LOG_FORMAT=json. */
  stdout(): string;
  /** Resolves once its output (stdout or stderr) contains the text. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `churn <args>`; `via` runs it under another command that then execs node (e.g.
 * `['ip', 'netns', 'exec', name]`, so the process lives in a network namespace).
 */
export function startChurn(args: string[], env: NodeJS.ProcessEnv, options: { via?: string[] } = {}): ChurnProcess {
  const [command, ...prefix] = [...(options.via ?? []), process.execPath];
  const child = spawn(command!, [...prefix, CHURN_BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // The worker and producer log to stdout; the CLI writes a failure to start on stderr.
  let output = '';
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    output += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    log: () => output,
    stdout: () => stdout,
    waitFor: (text, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const check = () => {
          if (output.includes(text)) resolve();
          else if (child.exitCode !== null) reject(new Error(`churn ${args[0]} exited before "${text}":\n${output}`));
          else if (Date.now() - started > timeoutMs) reject(new Error(`churn ${args[0]} did not print "${text}" in time:\n${output}`));
          else setTimeout(check, 50);
        };
        check();
      }),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Every `_SUCCESS` marker under a folder (there must be none after a failed run). */
export async function successMarkers(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name === '_SUCCESS') out.push(full);
    }
  };
  await walk(dir);
  return out;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
