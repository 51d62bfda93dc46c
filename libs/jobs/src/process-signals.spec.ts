import { EventEmitter } from 'node:events';
import { ChurnError } from '@churn/errors';
import { drainExitCode, drainOnSignals, drainTimeoutFromEnv, drainWithDeadline, type DrainPlan } from './process-signals';

const never = () => new Promise<void>(() => undefined);

function plan(overrides: Partial<DrainPlan>): DrainPlan & { lines: string[] } {
  const lines: string[] = [];
  return { drain: async () => undefined, abandon: () => [], deadlineMs: 20, log: (m) => lines.push(m), lines, ...overrides };
}

describe('drainWithDeadline', () => {
  it('reports a drain that finishes as drained, without abandoning anything', async () => {
    let abandoned = false;
    const result = await drainWithDeadline(plan({ abandon: () => ((abandoned = true), []) }));
    expect(result).toEqual({ outcome: 'drained' });
    expect(drainExitCode(result)).toBe(0);
    expect(abandoned).toBe(false);
  });

  it('abandons a drain that never ends once the deadline passes, logs what was given up, and exits with TIMEOUT', async () => {
    const p = plan({ drain: never, abandon: async () => ['shard job shard__r__00003'] });
    const result = await drainWithDeadline(p);
    expect(result).toEqual({ outcome: 'timed-out', abandoned: ['shard job shard__r__00003'] });
    expect(drainExitCode(result)).toBe(23);
    expect(p.lines).toEqual(['drain deadline of 20 ms passed: abandoned shard job shard__r__00003']);
  });

  it('still times out when abandoning itself hangs or fails', async () => {
    const hung = await drainWithDeadline(plan({ drain: never, abandon: () => new Promise<string[]>(() => undefined) }));
    expect(hung).toEqual({ outcome: 'timed-out', abandoned: ['(abandoning did not finish in time)'] });
    const failed = await drainWithDeadline(
      plan({
        drain: never,
        abandon: () => {
          throw new Error('socket gone');
        },
      }),
    );
    expect(failed).toEqual({ outcome: 'timed-out', abandoned: ['(abandoning failed: socket gone)'] });
  });

  it("exits with the failed drain's error code", async () => {
    const result = await drainWithDeadline(plan({ drain: () => Promise.reject(new ChurnError('QUEUE_UNAVAILABLE', 'gone')) }));
    expect(result.outcome).toBe('failed');
    expect(drainExitCode(result)).toBe(14);
  });
});

describe('drainOnSignals', () => {
  it('drains on the first signal and exits at once on the second, while the drain still runs', async () => {
    const signals = new EventEmitter();
    const exits: number[] = [];
    const p = plan({ drain: never, deadlineMs: 60_000 });
    drainOnSignals(p, { source: signals, exit: (code) => exits.push(code) });
    signals.emit('SIGTERM');
    expect(exits).toEqual([]);
    signals.emit('SIGINT');
    expect(exits).toEqual([130]);
    expect(p.lines).toEqual(['SIGTERM: draining (deadline 60000 ms; send the signal again to exit at once)', 'SIGINT again: exiting now without finishing the drain']);
  });

  it('exits 0 after a drain that finishes', async () => {
    const signals = new EventEmitter();
    const exited = new Promise<number>((resolve) => drainOnSignals(plan({}), { source: signals, exit: resolve }));
    signals.emit('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('reads the deadline from CHURN_DRAIN_TIMEOUT_MS, 30 s by default', () => {
    expect(drainTimeoutFromEnv({})).toBe(30_000);
    expect(drainTimeoutFromEnv({ CHURN_DRAIN_TIMEOUT_MS: '3000' })).toBe(3000);
  });
});
