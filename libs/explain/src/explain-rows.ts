import { ChurnError } from '@churn/errors';
import type { MethodResult } from './explain-method';
import {
  DEFAULT_MIN_BATCH_EVALUATIONS,
  type ExplainInput,
  type ExplainOptions,
  type ExplainResult,
  type ModelEvaluator,
} from './explain-types';
import { resolveExplanationMethod } from './method-registry';
import { playerLayout } from './players';

function invalid(message: string): ChurnError {
  return new ChurnError('INVALID_ARGUMENT', message);
}

function checkInput(model: ModelEvaluator, input: ExplainInput, options: ExplainOptions): number {
  const width = model.featureCount;
  const { rows } = input;
  if (!Number.isInteger(rows) || rows < 0) throw invalid(`rows must be a non-negative integer, got ${rows}`);
  if (input.baseline.length === 0 || input.baseline.length % width !== 0) {
    throw invalid(`the baseline has ${input.baseline.length} values but the model takes ${width} features (one row, or whole rows of a background sample)`);
  }
  if (input.features.length < rows * width) throw invalid(`features hold ${input.features.length} values, fewer than ${rows} rows x ${width} features`);
  if (input.scores.length < rows) throw invalid(`scores hold ${input.scores.length} values for ${rows} rows`);
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
 * clamped to [1e-7, 1 - 1e-7]). The method comes from the registry (method-registry.ts):
 *
 * - `auto`: `tree` for tree ensembles (`model.trees`), else `sampling`.
 * - `tree`: exact TreeSHAP from the trees' structure; one evaluation in total.
 * - `exact`: all 2^P coalitions (P <= 14): 2^P - 2 evaluations per row, plus f(baseline) once.
 * - `sampling`: 2 * permutations * (P - 1) evaluations per row, plus f(baseline) once;
 *   deterministic per row for a seed and row key, whatever the batch.
 * - `linear`: F + 1 evaluations in total; exact only for models linear in logit space
 *   (logistic regression), see `ExplainResult.linearResidual`.
 *
 * Perturbed rows of many customers are built straight into float32 chunks of at least
 * `minBatchEvaluations` rows, one evaluate() call each. With a background sample (several
 * baseline rows) the explanation against each row is computed and averaged (base value too).
 *
 * @throws ChurnError INVALID_ARGUMENT for inconsistent input or options (or `exact` with P > 14,
 *   or a method that does not support the model), MODEL_MISMATCH when the evaluator returns too
 *   few values.
 */
export async function explainRows(model: ModelEvaluator, input: ExplainInput, options: ExplainOptions): Promise<ExplainResult> {
  const minBatch = checkInput(model, input, options);
  const method = resolveExplanationMethod(options.method, model);
  if (method.usesRowKeys && input.rowKeys.length < input.rows) throw invalid(`rowKeys hold ${input.rowKeys.length} values for ${input.rows} rows`);
  const width = model.featureCount;
  const layout = playerLayout(input.players, width);
  const logitSpace = options.space === 'logit';
  const size = input.rows * layout.count;
  const baselines = input.baseline.length / width;
  const contributions = new Float32Array(size);
  const sum = baselines > 1 ? new Float64Array(size) : undefined;
  const scratch = baselines > 1 ? new Float32Array(size) : contributions;
  let baseValue = 0;
  let evaluations = 0;
  let evaluateCalls = 0;
  let last: MethodResult | undefined;
  for (let k = 0; k < baselines; k++) {
    last = await method.explain(model, {
      layout,
      width,
      rows: input.rows,
      features: input.features,
      scores: input.scores,
      rowKeys: input.rowKeys,
      baseline: input.baseline.subarray(k * width, (k + 1) * width),
      logitSpace,
      actionable: Uint8Array.from(input.players, (p) => (p.actionable ? 1 : 0)),
      contributions: scratch,
      minBatch,
      options,
    });
    baseValue += last.baseValue / baselines;
    evaluations += last.evaluations;
    evaluateCalls += last.evaluateCalls;
    if (sum) for (let i = 0; i < size; i++) sum[i] = sum[i]! + scratch[i]!;
  }
  if (sum) for (let i = 0; i < size; i++) contributions[i] = sum[i]! / baselines;
  return {
    baseValue,
    contributions,
    evaluations,
    evaluateCalls,
    method: method.name,
    ...(last?.linearResidual !== undefined ? { linearResidual: last.linearResidual } : {}),
    ...(last?.treeResidual !== undefined ? { treeResidual: last.treeResidual } : {}),
  };
}
