/** A test case for explainRows: a JS model, random rows, their scores, a baseline and players. */
import { explainRows } from '../explain-rows';
import type { ExplainMethod, ExplainOptions, ExplainResult, ModelEvaluator } from '../explain-types';
import type { Player } from '../players';
import { rowKey } from '../row-keys';
import { clampedLogit, evaluatorOf, randomRows, scoresOf, singletonPlayers, type CountingEvaluator, type RowModel } from './test-models';

export const SPACES = ['probability', 'logit'] as const;

export function keysFor(rows: number, offset = 0): Uint32Array {
  return Uint32Array.from({ length: rows }, (_, i) => rowKey(`customer-${i + offset}`));
}

export interface Case {
  model: RowModel;
  evaluator: CountingEvaluator;
  width: number;
  rows: number;
  features: Float32Array;
  scores: Float32Array;
  baseline: Float32Array;
  players: Player[];
}

export function makeCase(model: RowModel, width: number, rows: number, seed: number, players: Player[] = singletonPlayers(width)): Case {
  const features = randomRows(rows, width, seed);
  const baseline = randomRows(1, width, seed + 1).map((v) => v / 4);
  return { model, evaluator: evaluatorOf(model, width), width, rows, features, scores: scoresOf(model, features, rows, width), baseline, players };
}

/** explainRows on a case (probability space, 4 pairs, seed 7, plain sampling without refinement unless overridden). */
export async function explainCase(c: Case, options: Partial<ExplainOptions> & { method: ExplainMethod }, evaluator: ModelEvaluator = c.evaluator): Promise<ExplainResult> {
  return explainRows(
    evaluator,
    { features: c.features, rows: c.rows, scores: c.scores, rowKeys: keysFor(c.rows), players: c.players, baseline: c.baseline },
    { space: 'probability', permutations: 4, seed: 7, refine: false, ...options },
  );
}

/** Largest |base + sum(row) - target(row)| over the rows. */
export function efficiencyGap(result: ExplainResult, c: Case, space: 'probability' | 'logit'): number {
  const P = c.players.length;
  let worst = 0;
  for (let r = 0; r < c.rows; r++) {
    let sum = result.baseValue;
    for (let p = 0; p < P; p++) sum += result.contributions[r * P + p]!;
    const target = space === 'logit' ? clampedLogit(c.scores[r]!) : c.scores[r]!;
    worst = Math.max(worst, Math.abs(sum - target));
  }
  return worst;
}

export function rowOf(c: Case, r: number): Float32Array {
  return c.features.subarray(r * c.width, (r + 1) * c.width);
}
