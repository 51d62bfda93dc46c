import type { ModelOutput } from './explain-types';
import { ChurnError } from '@churn/errors';
import type { PerturbationPlan } from './evaluation-chunks';
import { logit } from './output-space';
import { differingPlayers, type PlayerLayout } from './players';
import { rowSeed } from './row-keys';

export interface SamplingPlanInput {
  layout: PlayerLayout;
  width: number;
  features: Float32Array;
  scores: ModelOutput;
  rowKeys: Uint32Array;
  baseline: Float32Array;
  logitSpace: boolean;
  /** Antithetic permutation pairs per row. */
  pairs: number;
  seed: number;
  /** rows x players, written by fold. */
  contributions: Float32Array;
  /** When given (rows x players), fold writes each contribution's standard error across the pairs. */
  standardErrors?: Float32Array;
}

/**
 * Permutation-sampling Shapley values with antithetic pairs. For each row, `pairs` permutations of
 * the players are drawn from a PRNG seeded by (seed, rowKey), so a row's result never depends on
 * which other rows share its batch. Each permutation and its reverse walk from the baseline to x,
 * adding one player at a time; a player's contribution is its average marginal difference. Each
 * walk telescopes to g(f(x)) - g(f(b)), so the contributions of every row sum to exactly that
 * (f(x) is the given score and f(b) one shared evaluation), whatever the number of pairs. Only the
 * P - 1 interior points of a walk are evaluated: 2 * pairs * (P - 1) evaluations per row, where
 * P counts only the players whose features differ from the baseline in that row (the others are
 * null players: exactly 0, and skipping them changes no other player's value).
 *
 * Walking a permutation and its reverse makes each player's marginals cover "joins early" and
 * "joins late" together, which cancels much of the first-order sampling noise.
 */
export function samplingPlan(input: SamplingPlanInput): PerturbationPlan {
  const { layout, width, features, scores, rowKeys, baseline, logitSpace, pairs, seed, contributions } = input;
  if (!Number.isInteger(pairs) || pairs < 1) {
    throw new ChurnError('INVALID_ARGUMENT', `sampling needs a positive whole number of permutation pairs, got ${pairs}`);
  }
  const P = layout.count;
  const { start, featureOf } = layout;
  const perm = new Int32Array(P);
  const work = new Float32Array(width);
  const phi = new Float64Array(P);
  const { standardErrors } = input;
  const pairPhi = standardErrors ? new Float64Array(P) : undefined;
  const squares = standardErrors ? new Float64Array(P) : undefined;

  // mulberry32, inline: a closure over one number, no allocation per draw.
  let state = 0;
  /** Seeds the row's stream and puts its players (those differing from the baseline) in perm; returns their count. */
  const startRow = (row: number): number => {
    state = rowSeed(seed, rowKeys[row]!) | 0;
    return differingPlayers(layout, features, row * width, baseline, perm);
  };
  const shuffle = (n: number): void => {
    for (let i = n - 1; i > 0; i--) {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), state | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const j = Math.floor((((t ^ (t >>> 14)) >>> 0) * (i + 1)) / 4294967296);
      const swap = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = swap;
    }
  };

  return {
    maxRowsPerCustomer: 2 * pairs * Math.max(0, P - 1),
    build(row, out, at) {
      const x = row * width;
      const n = startRow(row);
      if (n < 2) return 0;
      for (let k = 0; k < pairs; k++) {
        shuffle(n);
        // Forward walk perm[0], perm[1], ...; then the reverse walk perm[n-1], perm[n-2], ...
        for (let direction = 0; direction < 2; direction++) {
          work.set(baseline);
          for (let step = 0; step < n - 1; step++) {
            const p = perm[direction === 0 ? step : n - 1 - step]!;
            for (let q = start[p]!, end = start[p + 1]!; q < end; q++) {
              const f = featureOf[q]!;
              work[f] = features[x + f]!;
            }
            out.set(work, at);
            at += width;
          }
        }
      }
      return 2 * pairs * (n - 1);
    },
    fold(row, values, from, baselineValue) {
      const gb = logitSpace ? logit(baselineValue) : baselineValue;
      const fx = scores[row]!;
      const gx = logitSpace ? logit(fx) : fx;
      const n = startRow(row);
      const first = from;
      phi.fill(0);
      squares?.fill(0);
      for (let k = 0; n > 0 && k < pairs; k++) {
        shuffle(n);
        pairPhi?.fill(0);
        const target = pairPhi ?? phi;
        for (let direction = 0; direction < 2; direction++) {
          let previous = gb;
          for (let step = 0; step < n - 1; step++) {
            const v = values[from++]!;
            const g = logitSpace ? logit(v) : v;
            const p = perm[direction === 0 ? step : n - 1 - step]!;
            target[p] = target[p]! + g - previous;
            previous = g;
          }
          const last = perm[direction === 0 ? n - 1 : 0]!;
          target[last] = target[last]! + gx - previous;
        }
        if (pairPhi && squares) {
          for (let q = 0; q < n; q++) {
            const p = perm[q]!;
            phi[p] = phi[p]! + pairPhi[p]!;
            squares[p] = squares[p]! + pairPhi[p]! * pairPhi[p]!;
          }
        }
      }
      const base = row * P;
      const scale = 1 / (2 * pairs);
      for (let p = 0; p < P; p++) contributions[base + p] = phi[p]! * scale;
      if (standardErrors && squares) {
        // Each pair's estimate is pairPhi / 2; the mean's standard error is sd / sqrt(pairs).
        for (let p = 0; p < P; p++) {
          const mean = phi[p]! / pairs;
          const variance = pairs > 1 ? Math.max(squares[p]! / pairs - mean * mean, 0) * (pairs / (pairs - 1)) : mean * mean;
          standardErrors[base + p] = Math.sqrt(variance / pairs) / 2;
        }
      }
      return from - first;
    },
  };
}
