import type { ExplainMethod } from '@churn/explain';
import type { Device } from '@churn/onnx-runner';

/** Command-line overrides of the bundle's `explain` settings. */
export interface ExplainOverrides {
  /** none | all | band:a,b | score>=X | top:P% */
  policy?: string;
  method?: ExplainMethod;
  baseline?: 'median' | 'mean' | 'center';
  space?: 'probability' | 'logit';
  /** Antithetic permutation pairs for sampling Shapley. */
  permutations?: number;
  seed?: number;
}

/**
 * How shards are scored, the same for every shard of a run. One object travels unchanged from
 * the command line to each worker thread, so a new setting is added in one place.
 */
export interface ScoringSettings {
  device: Device;
  /** Rows per inference batch (default 65,536). */
  batchRows?: number;
  /** Overrides the bundle's `inputContract.maxBadRowFraction`. */
  maxBadRowFraction?: number;
  explain?: ExplainOverrides;
}
