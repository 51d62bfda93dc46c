import type { Command } from 'commander';
import { ChurnError } from '@churn/errors';
import { createObjectStore } from '@churn/object-store';
import { runLocal, type RunProgress, type RunSummary } from '@churn/scoring';
import type { CliIo } from '../cli-io';
import { fmt, formatDuration } from '../cli-options';
import { shardWorkerScript } from '../default-bundle';
import { postgresPublisher } from '@churn/warehouse-pg';
import { addScoringOptions, runRequestOf, warehouseOf, type ScoringFlags } from '../scoring-options';

export interface ScoreOptions extends ScoringFlags {
  input: string;
  asOf?: string;
  output: string;
}

/** Drift in the log: what alerts and warns against the training profile. */
export function reportDrift(io: CliIo, summary: RunSummary): void {
  if (!summary.drift || summary.drift.status === 'ok') return;
  const alerts = summary.drift.alerts.length > 0 ? `alerting: ${summary.drift.alerts.join(', ')}` : '';
  const warnings = summary.drift.warnings.length > 0 ? `warning: ${summary.drift.warnings.join(', ')}` : '';
  io.err(`drift ${summary.drift.status} against the training profile (${[alerts, warnings].filter(Boolean).join('; ')})`);
}

/** CPU and device time of a committed run, and its cost when a price per device-hour was set. */
export function reportCost(io: CliIo, summary: RunSummary): void {
  const time = `${summary.cpuSeconds} CPU-s${summary.deviceSeconds === undefined ? '' : `, ${summary.deviceSeconds} device-s`}`;
  const cost = summary.cost ? `; cost ${summary.cost.total} at ${summary.cost.pricePerDeviceHour} per device-hour, ${summary.cost.perMillionRows} per million rows` : '';
  io.err(`time ${time}${cost}`);
}

/** A run the drift gate held commits, but the command says so with an exit code of its own. */
export function throwIfHeld(summary: RunSummary): void {
  if (!summary.held) return;
  throw new ChurnError('DRIFT_HELD', `run ${summary.runId} is committed but held back from the latest scores because drift alerts (${summary.drift?.alerts.join(', ') ?? ''}); review it, then run churn release ${summary.runId} --scores <table>`, {
    details: { runId: summary.runId, alerts: summary.drift?.alerts ?? [] },
  });
}

/**
 * A run the warehouse did not take commits, but the command says so with the warehouse's exit
 * code (17): the Parquet commit stands, and `churn load` completes it.
 */
export function throwIfNotLoaded(summary: RunSummary): void {
  const failed = (summary.published ?? []).find((p) => p.state === 'not_loaded');
  if (!failed) return;
  throw new ChurnError(
    'WAREHOUSE_UNAVAILABLE',
    `run ${summary.runId} is committed to Parquet but not loaded into the warehouse ${failed.target}: ${failed.error?.message ?? 'no reason recorded'}; once the warehouse is back, run churn load --run ${summary.runId} --scores <table>`,
    { details: { runId: summary.runId, target: failed.target }, settings: ['warehouse'] },
  );
}

/** The progress line: rows, share, shards, rate, elapsed and ETA. */
export function progressLine(p: RunProgress, seconds: number): string {
  const rate = p.rowsDone / Math.max(seconds, 1e-3);
  const eta = p.rowsDone > 0 ? formatDuration((p.rowsTotal - p.rowsDone) / Math.max(rate, 1)) : '?';
  const pct = p.rowsTotal > 0 ? Math.floor((100 * p.rowsDone) / p.rowsTotal) : 0;
  return `scored ${fmt(p.rowsDone)}/${fmt(p.rowsTotal)} rows (${pct}%), shard ${p.shardsDone}/${p.shardsTotal}, ${fmt(Math.round(rate))} rows/s, elapsed ${formatDuration(seconds)}, ETA ${eta}`;
}

/**
 * Embedded scoring. On a terminal the progress line is redrawn on a timer (from per-batch
 * progress, so a long shard moves it too); returns the run summary.
 */
export async function scoreLocally(io: CliIo, options: ScoreOptions): Promise<RunSummary> {
  const started = performance.now();
  let latest: RunProgress | undefined;
  const draw = () => latest && io.progress(progressLine(latest, (performance.now() - started) / 1000));
  const timer = io.isTty ? setInterval(draw, 250) : undefined;
  try {
    const script = shardWorkerScript();
    const warehouse = warehouseOf(options);
    return await runLocal({
      store: createObjectStore(),
      request: runRequestOf(options, { dataset: options.input, output: options.output, ...(options.asOf ? { asOf: options.asOf } : {}) }),
      ...(script ? { workerScript: script } : {}),
      ...(warehouse ? { publishers: [postgresPublisher(warehouse)] } : {}),
      log: (m) => io.err(m),
      onProgress: (p) => (latest = p),
    });
  } finally {
    if (timer) clearInterval(timer);
    io.progress('');
  }
}

export function registerScoreCommand(program: Command, io: CliIo): void {
  const command = program
    .command('score')
    .description('score a dataset partition locally (embedded mode) and commit the score table')
    .requiredOption('--input <uri>', 'dataset root (holding as_of=YYYY-MM-DD/ partitions) or one partition folder')
    .option('--as-of <date>', 'partition to score (default: the latest)')
    .requiredOption('--output <uri>', 'score table root');
  addScoringOptions(command).action(async (options: ScoreOptions) => {
    const summary = await scoreLocally(io, options);
    io.err(
      `committed ${summary.output}: ${fmt(summary.rowsScored)} scored (${fmt(summary.rowsExplained)} explained), ${fmt(summary.rowsQuarantined)} quarantined, ${fmt(summary.rowsIneligible)} ineligible of ${fmt(summary.rowsRead)} rows in ${summary.seconds}s (${fmt(summary.rowsPerSecond)} rows/s, ${summary.device})`,
    );
    reportDrift(io, summary);
    reportCost(io, summary);
    io.out(JSON.stringify(summary));
    throwIfNotLoaded(summary);
    throwIfHeld(summary);
  });
}
