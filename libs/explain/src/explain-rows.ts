import { ChurnError } from '@churn/errors';
import { runInChunks, type PerturbationPlan } from './evaluation-chunks';
import { exactPlan } from './exact-shapley';
import {
  DEFAULT_MIN_BATCH_EVALUATIONS,
  type ExplainInput,
  type ExplainOptions,
  type ExplainResult,
  type ModelEvaluator,
} from './explain-types';
import { explainLinear } from './linear-attribution';
import { logit } from './output-space';
import { playerLayout } from './players';
import { samplingPlan } from './sampling-shapley';

function invalid(message: string): ChurnError {
  return new ChurnError('INVALID_ARGUMENT', message);
}

function checkInput(model: ModelEvaluator, input: ExplainInput, options: ExplainOptions): number {
  const width = model.featureCount;
  const { rows } = input;
  if (!Number.isInteger(rows) || rows < 0) throw invalid(`rows must be a non-negative integer, got ${rows}`);
  if (input.baseline.length !== width) throw invalid(`the baseline has ${input.baseline.length} values but the model takes ${width} features`);
  if (input.features.length < rows * width) throw invalid(`features hold ${input.features.length} values, fewer than ${rows} rows x ${width} features`);
  if (input.scores.length < rows) throw invalid(`scores hold ${input.scores.length} values for ${rows} rows`);
  if (options.method === 'sampling' && input.rowKeys.length < rows) throw invalid(`rowKeys hold ${input.rowKeys.length} values for ${rows} rows`);
  if (!['linear', 'exact', 'sampling'].includes(options.method)) {
    throw invalid(`unknown explanation method "${String(options.method)}"; use linear, exact or sampling`);
  }
  if (options.space !== 'probability' && options.space !== 'logit') {
    throw invalid(`unknown explanation space "${String(options.space)}"; use probability or logit`);
  }
  if (!Number.isSafeInteger(options.seed)) throw invalid(`the explanation seed must be an integer, got ${options.seed}`);
  const minBatch = options.minBatchEvaluations ?? DEFAULT_MIN_BATCH_EVALUATIONS;
  if (!Number.isInteger(minBatch) || minBatch < 1) throw invalid(`minBatchEvaluations must be a positive integer, got ${minBatch}`);
  return minBatch;
}

/**
 * Per-player contributions for `input.rows` rows, in the chosen output space, such that for every
 * row `baseValue + sum(contributions) = score` (probability) or `logit(score)` (logit, with p
 * clamped to [1e-7, 1 - 1e-7]). Perturbed rows of many customers are built straight into float32
 * chunks of at least `minBatchEvaluations` rows, one evaluate() call each.
 *
 * - `exact`: all 2^P coalitions (P <= 14): 2^P - 2 evaluations per row, plus f(baseline) once.
 * - `sampling`: 2 * permutations * (P - 1) evaluations per row, plus f(baseline) once;
 *   deterministic per row for a seed and row key, whatever the batch.
 * - `linear`: F + 1 evaluations in total; exact only for models linear in logit space
 *   (logistic regression), see `ExplainResult.linearResidual`.
 *
 * @throws ChurnError INVALID_ARGUMENT for inconsistent input or options (or `exact` with P > 14),
 *   MODEL_MISMATCH when the evaluator returns too few values.
 */
export async function explainRows(model: ModelEvaluator, input: ExplainInput, options: ExplainOptions): Promise<ExplainResult> {
  const minBatch = checkInput(model, input, options);
  const width = model.featureCount;
  const layout = playerLayout(input.players, width);
  const logitSpace = options.space === 'logit';
  const contributions = new Float32Array(input.rows * layout.count);
  const common = { layout, width, features: input.features, scores: input.scores, baseline: input.baseline, logitSpace, contributions };

  if (options.method === 'linear') {
    const run = await explainLinear(model, { ...common, rows: input.rows });
    return { baseValue: run.baseValue, contributions, evaluations: run.evaluations, evaluateCalls: 1, linearResidual: run.residual };
  }
  const plan: PerturbationPlan =
    options.method === 'exact'
      ? exactPlan({ ...common, ...(options.maxExactPlayers ? { maxPlayers: options.maxExactPlayers } : {}) })
      : samplingPlan({ ...common, rowKeys: input.rowKeys, pairs: options.permutations, seed: options.seed });
  const run = await runInChunks(model, plan, input.rows, input.baseline, minBatch);
  return {
    baseValue: logitSpace ? logit(run.baseline) : run.baseline,
    contributions,
    evaluations: run.evaluations,
    evaluateCalls: run.evaluateCalls,
  };
}
