/**
 * bin/churn.js runs the scoring commands under their Node flags (bin/node-runtime.js) by relaying
 * to a child started with them: the child must carry the flags, its exit code and signals must
 * reach the caller, and killing the relay, even with SIGKILL, must take the child down with it.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { churn, CHURN_BIN, DEFAULT_BUNDLE, REPO_ROOT } from './support/churn-cli';

const runtime = require(path.join(REPO_ROOT, 'bin', 'node-runtime.js')) as {
  SCORING_NODE_FLAGS: readonly string[];
  missingFlags(argv: string[], execArgv?: string[], env?: NodeJS.ProcessEnv): string[];
};

const AS_OF = '2026-04-01';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Processes whose environment marks them as the relay child of `parent`, with their argv. */
async function relayChildren(parent: number): Promise<{ pid: number; argv: string[] }[]> {
  const found: { pid: number; argv: string[] }[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = await fs.readFile(`/proc/${entry}/environ`, 'utf8');
      if (!environ.split('\0').includes(`CHURN_RUNTIME_CHILD=${parent}`)) continue;
      const argv = (await fs.readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      found.push({ pid: Number(entry), argv });
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}

describe('bin/churn.js: scoring commands under their Node flags', () => {
  let dir: string;
  let data: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-runtime-'));
    data = path.join(dir, 'data');
    expect((await churn(['synth', '--customers', '300000', '--as-of', AS_OF, '--out', data, '--seed', '5', '--files', '2'])).code).toBe(0);
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('wants the flags for score and demo only, and not when they are there or switched off', () => {
    expect(runtime.SCORING_NODE_FLAGS).toContain('--single-threaded-gc');
    expect(runtime.missingFlags(['score', '--input', 'x'], [], {})).toEqual(runtime.SCORING_NODE_FLAGS);
    expect(runtime.missingFlags(['demo', '--customers', '1000'], [], {})).toEqual(runtime.SCORING_NODE_FLAGS);
    expect(runtime.missingFlags(['query', 'SELECT 1'], [], {})).toEqual([]);
    expect(runtime.missingFlags(['worker', '--concurrency', '1'], [], {})).toEqual([]);
    expect(runtime.missingFlags(['run', '--input', 'x'], [], {})).toEqual([]);
    expect(runtime.missingFlags(['score'], [...runtime.SCORING_NODE_FLAGS], {})).toEqual([]);
    expect(runtime.missingFlags(['score'], [], { CHURN_RUNTIME_FLAGS: 'off' })).toEqual([]);
  });

  it("passes the child's exit code and output through", async () => {
    const bad = await churn(['score', '--input', data, '--as-of', AS_OF, '--output', path.join(dir, 'x'), '--device', 'tpu']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('tpu');
  });

  /** Starts `churn score` (explaining every row, so it runs for a while) and finds its relayed child. */
  async function startScoring(output: string) {
    const relay = spawn(process.execPath, [CHURN_BIN, 'score', '--input', data, '--as-of', AS_OF, '--output', output, '--model', DEFAULT_BUNDLE, '--device', 'cpu', '--explain', 'all'], {
      cwd: REPO_ROOT,
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => relay.on('exit', (_code, signal) => resolve(signal)));
    let children: { pid: number; argv: string[] }[] = [];
    for (let i = 0; i < 200 && children.length === 0; i++) {
      children = await relayChildren(relay.pid!);
      if (children.length === 0) await sleep(50);
    }
    expect(children).toHaveLength(1);
    return { relay, exited, child: children[0]! };
  }

  it('scores in a child that carries the flags, and a SIGKILLed relay takes the child down', async () => {
    const output = path.join(dir, 'scores');
    const { relay, exited, child } = await startScoring(output);
    expect(child.argv).toEqual(expect.arrayContaining([...runtime.SCORING_NODE_FLAGS, CHURN_BIN, 'score']));
    relay.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      alive = await fs.access(`/proc/${child.pid}`).then(
        () => true,
        () => false,
      );
      if (alive) await sleep(50);
    }
    expect(alive).toBe(false);
    // Nothing was committed by a child left running on its own.
    await sleep(500);
    await expect(fs.access(path.join(output, `as_of=${AS_OF}`, 'model=churn-mlp-1.0.0', '_SUCCESS'))).rejects.toThrow();
  });

  it('forwards SIGTERM to the child and ends by the same signal', async () => {
    const { relay, exited, child } = await startScoring(path.join(dir, 'scores-term'));
    relay.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    await expect(fs.access(`/proc/${child.pid}`)).rejects.toThrow();
  });
});
