import type { ExplainMethodName } from '@churn/model-bundle';
import type { Player } from './players';
import type { DenseNetwork } from './dense-network';
import type { TreeEnsemble } from './tree-ensemble';

/** What an evaluator returns: P(churn) per row (a JS model may keep float64). */
export type ModelOutput = Float32Array | Float64Array;

/**
 * Scores rows of a row-major float32 matrix (model input space, `featureCount` wide) and returns
 * P(churn) per row. The explainer only ever sees the model through this interface, so this lib
 * stays free of any inference engine (the caller wraps `OnnxScorer`, a test wraps plain JS).
 */
export interface ModelEvaluator {
  readonly featureCount: number;
  evaluate(matrix: Float32Array, rows: number): Promise<ModelOutput>;
  /**
   * The model's structure when it is a tree ensemble (read from its ONNX graph), which the
   * `tree` method explains exactly without evaluating perturbed rows.
   */
  readonly trees?: TreeEnsemble;
  /**
   * The model's structure when it is a one-hidden-layer ReLU network (read from its ONNX graph):
   * exact Shapley values then compute every coalition's value from it (dense-network.ts)
   * instead of evaluating a row per coalition; f(x) and f(baseline) still come from evaluate().
   */
  readonly network?: DenseNetwork;
}

/**
 * `auto`: the best method that supports the model (`tree` for tree ensembles, else `sampling`);
 * `tree`: TreeSHAP; `linear`: closed form for models linear in logit space; `exact`: all
 * coalitions; `sampling`: permutation Shapley. See method-registry.ts.
 */
export type ExplainMethod = ExplainMethodName;

/** The space contributions are reported in: probability points, or log-odds. */
export type ExplainSpace = 'probability' | 'logit';

export interface ExplainOptions {
  method: ExplainMethod;
  space: ExplainSpace;
  /** Sampling: number of antithetic permutation PAIRS (a permutation and its reverse). */
  permutations: number;
  seed: number;
  /**
   * Sampling: refine rows whose first reason is a close call (exact, or more pairs) and compute
   * rows exactly where that costs no more than sampling (default true; see adaptive-sampling.ts).
   */
  refine?: boolean;
  /** Model evaluations per evaluate() call: at least this many (default 65_536) except for the last chunk. */
  minBatchEvaluations?: number;
  /**
   * Exact: the most players allowed (default MAX_EXACT_PLAYERS). Raised only by offline tools,
   * e.g. to measure sampling error against exact values on a few rows of an 18-player model.
   */
  maxExactPlayers?: number;
}

export interface ExplainInput {
  /** Rows to explain, row-major, model input space (rows x featureCount). */
  features: Float32Array;
  rows: number;
  /** f(x) for each row as already computed by scoring (not re-evaluated). */
  scores: ModelOutput;
  /**
   * Per-row random keys (e.g. `rowKey(customerId)`) so results do not depend on sharding; only
   * methods that declare `usesRowKeys` (sampling) read them, others may get an empty array.
   */
  rowKeys: Uint32Array;
  /** The Shapley players; together they must cover every model feature exactly once. */
  players: readonly Player[];
  /**
   * Model-space baseline (`baselineVector`): one row (featureCount long), or several (a
   * background sample, row-major), whose explanations are averaged.
   */
  baseline: Float32Array;
}

export interface ExplainResult {
  /** f(baseline) in the output space (probability, or logit). */
  baseValue: number;
  /** rows x players, row-major, in the output space; for every row base + sum = score (prob) or logit(score) (logit), within 1e-4. */
  contributions: Float32Array;
  /** Model evaluations spent (for throughput reporting). */
  evaluations: number;
  /** evaluate() calls made. */
  evaluateCalls: number;
  /**
   * `linear` only: the largest |logit f(x) - logit f(b) - sum of w.(x - b)| over the rows, before
   * that residual was spread over the players to keep efficiency. Float noise (< ~1e-3) for a
   * logistic model; anything larger means the model is not linear in logit space and `linear` is
   * the wrong method for it.
   */
  linearResidual?: number;
  /**
   * `tree` only: the largest gap, in the link's space, between the trees' margin differences and
   * the model's scores before it was spread over the players (float noise; see tree-shap.ts).
   */
  treeResidual?: number;
  /** The method that ran (what `auto` resolved to). */
  method: Exclude<ExplainMethod, 'auto'>;
}

/** Default for `ExplainOptions.minBatchEvaluations`: rows built per evaluate() call (the scorer splits them into its own batches). */
export const DEFAULT_MIN_BATCH_EVALUATIONS = 65_536;

/** `exact` evaluates 2^P coalitions per row; beyond this the cost explodes (2^14 = 16,384 per row). */
export const MAX_EXACT_PLAYERS = 14;
