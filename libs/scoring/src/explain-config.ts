import { ChurnError } from '@churn/errors';
import {
  baselineVector,
  parsePolicy,
  playersOf,
  type ExplainMethod,
  type ExplainPolicy,
  type Player,
} from '@churn/explain';
import type { BundleManifest } from '@churn/model-bundle';
import type { ExplainOverrides } from './scoring-settings';

/** The run's explanation settings: the bundle's, with command-line overrides applied. */
export interface ExplainConfig {
  policy: ExplainPolicy;
  policyText: string;
  method: ExplainMethod;
  space: 'probability' | 'logit';
  permutations: number;
  seed: number;
  players: Player[];
  /** Model-space baseline; empty when nothing is explained. */
  baseline: Float32Array;
}

export const DEFAULT_EXPLAIN_SEED = 20_261_128;

export function resolveExplainConfig(manifest: BundleManifest, overrides: ExplainOverrides = {}): ExplainConfig {
  const settings = manifest.explain;
  const policyText = overrides.policy ?? settings.policy;
  const policy = parsePolicy(policyText, manifest.riskBands.map((b) => b.name));
  const permutations = overrides.permutations ?? settings.permutations;
  if (!Number.isInteger(permutations) || permutations < 1) {
    throw new ChurnError('INVALID_ARGUMENT', `permutation pairs must be a positive integer, got ${permutations}`);
  }
  const players = playersOf(manifest.features);
  return {
    policy,
    policyText,
    method: overrides.method ?? settings.method,
    space: overrides.space ?? settings.space,
    permutations,
    seed: overrides.seed ?? DEFAULT_EXPLAIN_SEED,
    players,
    baseline: policy.kind === 'none' ? new Float32Array(0) : baselineVector(manifest, overrides.baseline ?? settings.baseline),
  };
}

/** The settings part of an ExplainConfig, as recorded in the run manifest. */
export interface ExplainSummary {
  policy: string;
  method: string;
  space: string;
  permutations: number;
}

export function summarizeExplain(config: ExplainConfig): ExplainSummary {
  return { policy: config.policyText, method: config.method, space: config.space, permutations: config.permutations };
}
