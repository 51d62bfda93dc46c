import { exitCodeOf, toChurnError } from '@churn/errors';
import { durationFromEnv } from './redis-connection';

/** Default bound on a graceful drain after SIGTERM/SIGINT (`CHURN_DRAIN_TIMEOUT_MS`). */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/** How long abandoning may take before the process exits regardless. */
const ABANDON_BOUND_MS = 2_000;

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** Exit status of a process stopped by a second signal: 128 + the signal number, as shells report it. */
const SIGNAL_EXIT: Readonly<Record<(typeof SIGNALS)[number], number>> = { SIGINT: 130, SIGTERM: 143 };

export interface DrainPlan {
  /** Stops taking work and lets active work finish (BullMQ `worker.close()`, then releases threads). */
  drain: () => Promise<void>;
  /**
   * Called when the deadline passes with the drain unfinished: drops what is still active
   * without waiting (sockets, threads) and returns what was given up, one line each, for the log.
   */
  abandon: () => Promise<string[]> | string[];
  /** How long the drain may take (`drainTimeoutFromEnv`). */
  deadlineMs: number;
  log: (message: string) => void;
}

export type DrainResult = { outcome: 'drained' } | { outcome: 'failed'; error: unknown } | { outcome: 'timed-out'; abandoned: string[] };

/** The drain deadline from `CHURN_DRAIN_TIMEOUT_MS` (milliseconds), default 30 s. */
export function drainTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return durationFromEnv(env, 'CHURN_DRAIN_TIMEOUT_MS', DEFAULT_DRAIN_TIMEOUT_MS);
}

/**
 * Runs `plan.drain()` against `plan.deadlineMs`. A drain that ends in time is `drained` (or
 * `failed` with its error); one that does not is abandoned (`plan.abandon()`, itself bounded) and
 * reported as `timed-out` with what was given up, which is logged.
 */
export async function drainWithDeadline(plan: DrainPlan): Promise<DrainResult> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), plan.deadlineMs)));
  const drained = plan.drain().then(
    (): DrainResult => ({ outcome: 'drained' }),
    (error: unknown): DrainResult => ({ outcome: 'failed', error }),
  );
  const first = await Promise.race([drained, expired]);
  clearTimeout(timer);
  if (first !== 'expired') return first;
  let bound: NodeJS.Timeout | undefined;
  const abandoned = await Promise.race([
    Promise.resolve()
      .then(plan.abandon)
      .catch((error: unknown) => [`(abandoning failed: ${toChurnError(error).message})`]),
    new Promise<string[]>((resolve) => (bound = setTimeout(() => resolve(['(abandoning did not finish in time)']), ABANDON_BOUND_MS))),
  ]);
  clearTimeout(bound);
  plan.log(`drain deadline of ${plan.deadlineMs} ms passed: ${abandoned.length > 0 ? `abandoned ${abandoned.join('; ')}` : 'nothing was active, but closing did not finish'}`);
  return { outcome: 'timed-out', abandoned };
}

/** Process exit status of a drain: 0 when drained, the TIMEOUT code when the deadline passed, the error's code when it failed. */
export function drainExitCode(result: DrainResult): number {
  if (result.outcome === 'drained') return 0;
  if (result.outcome === 'timed-out') return exitCodeOf('TIMEOUT');
  return toChurnError(result.error).exitCode;
}

export interface SignalOptions {
  /** Where signals come from (default `process`); tests pass an EventEmitter. */
  source?: Pick<NodeJS.EventEmitter, 'on'>;
  /** How the process ends (default `process.exit`). */
  exit?: (code: number) => void;
}

/**
 * Queue processes (worker, producer) drain on SIGTERM or SIGINT within the plan's deadline, then
 * exit with `drainExitCode`. A second SIGTERM or SIGINT while draining exits at once with
 * 128 + the signal number (143, 130): the operator's "stop now".
 */
export function drainOnSignals(plan: DrainPlan, options: SignalOptions = {}): void {
  const source = options.source ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let draining = false;
  for (const signal of SIGNALS) {
    source.on(signal, () => {
      if (draining) {
        plan.log(`${signal} again: exiting now without finishing the drain`);
        exit(SIGNAL_EXIT[signal]);
        return;
      }
      draining = true;
      plan.log(`${signal}: draining (deadline ${plan.deadlineMs} ms; send the signal again to exit at once)`);
      void drainWithDeadline(plan).then((result) => {
        if (result.outcome === 'failed') plan.log(`drain failed: ${toChurnError(result.error).message}`);
        exit(drainExitCode(result));
      });
    });
  }
}
