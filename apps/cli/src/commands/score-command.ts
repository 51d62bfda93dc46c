import type { Command } from 'commander';
import { createObjectStore } from '@churn/object-store';
import { parseDevice } from '@churn/onnx-runner';
import { ChurnError } from '@churn/errors';
import { runLocal, type ExplainOverrides, type LocalRunSummary } from '@churn/scoring';
import type { CliIo } from '../cli-io';
import { fmt, formatDuration, fraction, positiveInt } from '../cli-options';
import { defaultBundlePath, shardWorkerScript } from '../default-bundle';

export interface ScoreOptions {
  input: string;
  asOf?: string;
  model?: string;
  output: string;
  device: string;
  batchRows?: number;
  shardRows?: number;
  concurrency?: number;
  maxBadFraction?: number;
  explain?: string;
  explainMethod?: string;
  explainBaseline?: string;
  explainSpace?: string;
  permutations?: number;
}

const EXPLAIN_METHODS = ['linear', 'exact', 'sampling'] as const;
const EXPLAIN_BASELINES = ['median', 'mean', 'center'] as const;
const EXPLAIN_SPACES = ['probability', 'logit'] as const;

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ChurnError('INVALID_ARGUMENT', `unknown ${flag} "${value}"; use one of: ${allowed.join(', ')}`);
  }
  return value as T;
}

function explainOverrides(options: ScoreOptions): ExplainOverrides | undefined {
  const method = oneOf('--explain-method', options.explainMethod, EXPLAIN_METHODS);
  const baseline = oneOf('--explain-baseline', options.explainBaseline, EXPLAIN_BASELINES);
  const space = oneOf('--explain-space', options.explainSpace, EXPLAIN_SPACES);
  const overrides: ExplainOverrides = {
    ...(options.explain ? { policy: options.explain } : {}),
    ...(method ? { method } : {}),
    ...(baseline ? { baseline } : {}),
    ...(space ? { space } : {}),
    ...(options.permutations ? { permutations: options.permutations } : {}),
  };
  return Object.keys(overrides).length > 0 ? overrides : undefined;
}

/** Embedded scoring with a progress line on a TTY; returns the run summary. */
export async function scoreLocally(io: CliIo, options: ScoreOptions): Promise<LocalRunSummary> {
  const device = parseDevice(options.device);
  const explain = explainOverrides(options);
  const started = performance.now();
  const summary = await runLocal({
    store: createObjectStore(),
    input: options.input,
    model: options.model ?? defaultBundlePath(),
    output: options.output,
    device,
    ...(shardWorkerScript() ? { workerScript: shardWorkerScript() } : {}),
    ...(options.asOf ? { asOf: options.asOf } : {}),
    ...(options.batchRows ? { batchRows: options.batchRows } : {}),
    ...(options.shardRows ? { shardRows: options.shardRows } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    ...(options.maxBadFraction === undefined ? {} : { maxBadRowFraction: options.maxBadFraction }),
    ...(explain ? { explain } : {}),
    log: (m) => io.err(m),
    onProgress: ({ rowsDone, rowsTotal, shardsDone, shardsTotal }) => {
      const seconds = (performance.now() - started) / 1000;
      const rate = rowsDone / Math.max(seconds, 1e-3);
      const eta = (rowsTotal - rowsDone) / Math.max(rate, 1);
      io.progress(
        `scored ${fmt(rowsDone)}/${fmt(rowsTotal)} rows (${Math.round((100 * rowsDone) / rowsTotal)}%), shard ${shardsDone}/${shardsTotal}, ${fmt(Math.round(rate))} rows/s, ETA ${formatDuration(eta)}`,
      );
    },
  });
  io.progress('');
  return summary;
}

export function registerScoreCommand(program: Command, io: CliIo): void {
  program
    .command('score')
    .description('score a dataset partition locally (embedded mode) and commit the score table')
    .requiredOption('--input <uri>', 'dataset root (holding as_of=YYYY-MM-DD/ partitions) or one partition folder')
    .option('--as-of <date>', 'partition to score (default: the latest)')
    .option('--model <uri>', 'model bundle folder (default: the committed models/churn-mlp)')
    .requiredOption('--output <uri>', 'score table root')
    .option('--device <device>', 'execution provider: auto | cpu | cuda | webgpu', 'auto')
    .option('--batch-rows <n>', 'rows per inference batch (default 65536)', positiveInt)
    .option('--shard-rows <n>', 'target rows per shard (default 131072)', positiveInt)
    .option('--concurrency <n>', 'shards scored at once, each in its own worker thread (default: one per CPU core)', positiveInt)
    .option('--explain <policy>', "rows to explain: none | all | band:a,b | score>=X | top:P% (default: the bundle's)")
    .option('--explain-method <method>', "linear | exact | sampling (default: the bundle's)")
    .option('--explain-baseline <baseline>', "median | mean | center (default: the bundle's)")
    .option('--explain-space <space>', "probability | logit (default: the bundle's)")
    .option('--permutations <pairs>', 'antithetic permutation pairs for sampling Shapley', positiveInt)
    .option('--max-bad-fraction <f>', "fail a shard when more than this fraction of its rows break the input contract (default: the bundle's, 0.05)", fraction)
    .action(async (options: ScoreOptions) => {
      const summary = await scoreLocally(io, options);
      io.err(
        `committed ${summary.output}: ${fmt(summary.rowsScored)} scored (${fmt(summary.rowsExplained)} explained), ${fmt(summary.rowsQuarantined)} quarantined, ${fmt(summary.rowsIneligible)} ineligible of ${fmt(summary.rowsRead)} rows in ${summary.seconds}s (${fmt(summary.rowsPerSecond)} rows/s, ${summary.device})`,
      );
      io.out(JSON.stringify(summary));
    });
}
