import type { ExplainOptions, ModelEvaluator, ModelOutput } from './explain-types';
import type { PlayerLayout } from './players';

/** One explanation of `rows` rows against one baseline row, as a method receives it. */
export interface MethodRun {
  layout: PlayerLayout;
  /** Model input width. */
  width: number;
  rows: number;
  features: Float32Array;
  scores: ModelOutput;
  rowKeys: Uint32Array;
  /** One baseline row (width values). */
  baseline: Float32Array;
  logitSpace: boolean;
  /** Per player: 1 when it may be a reason (sampling refines rows whose first reason is a close call). */
  actionable: Uint8Array;
  /** rows x players, in the output space; the method writes every entry. */
  contributions: Float32Array;
  /** Model evaluations per evaluate() call, at least. */
  minBatch: number;
  options: ExplainOptions;
}

export interface MethodResult {
  /** f(baseline) in the output space. */
  baseValue: number;
  evaluations: number;
  evaluateCalls: number;
  /** See ExplainResult.linearResidual. */
  linearResidual?: number;
  /** See ExplainResult.treeResidual. */
  treeResidual?: number;
}

/**
 * An explanation method: a named way to turn a model and rows into per-player contributions
 * that add up to the score. Methods plug into the registry (`method-registry.ts`); `auto`
 * takes the first method, in registry order, that is an auto candidate and supports the model.
 */
export interface ExplanationMethod {
  readonly name: 'tree' | 'exact' | 'sampling' | 'linear';
  /** Whether `auto` may pick it. */
  readonly auto: boolean;
  /** Whether it reads `MethodRun.rowKeys` (callers may skip computing them otherwise). */
  readonly usesRowKeys: boolean;
  /** What a model needs for this method, completing "method X needs ..." in errors. */
  readonly requirement: string;
  /** Whether this method can explain this model. */
  supports(model: ModelEvaluator): boolean;
  explain(model: ModelEvaluator, run: MethodRun): Promise<MethodResult>;
}
