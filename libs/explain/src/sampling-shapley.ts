import type { ModelOutput } from './explain-types';
import { ChurnError } from '@churn/errors';
import type { PerturbationPlan } from './evaluation-chunks';
import { logit } from './output-space';
import { differingPlayers, type PlayerLayout } from './players';
import { rowSeed } from './row-keys';
import { CoalitionLogits, type DenseNetwork } from './dense-network';

const NO_POINTS = new Float64Array(0);

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
 * A row's permutations: `start(row)` seeds the row's stream from (seed, rowKey) and puts the
 * players differing from the baseline in `perm`, returning their count; each `shuffle(n)` then
 * draws the next permutation of perm[0..n) in place. build, fold and the network's walks
 * (samplingByNetwork) draw the same permutations from it.
 */
function permutationStream(input: Pick<SamplingPlanInput, 'layout' | 'width' | 'features' | 'rowKeys' | 'baseline' | 'seed'>, perm: Int32Array) {
  const { layout, width, features, rowKeys, baseline, seed } = input;
  // mulberry32, inline: a closure over one number, no allocation per draw.
  let state = 0;
  return {
    start(row: number): number {
      state = rowSeed(seed, rowKeys[row]!) | 0;
      return differingPlayers(layout, features, row * width, baseline, perm);
    },
    shuffle(n: number): void {
      for (let i = n - 1; i > 0; i--) {
        state = (state + 0x6d2b79f5) | 0;
        let t = Math.imul(state ^ (state >>> 15), state | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        const j = Math.floor((((t ^ (t >>> 14)) >>> 0) * (i + 1)) / 4294967296);
        const swap = perm[i]!;
        perm[i] = perm[j]!;
        perm[j] = swap;
      }
    },
  };
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
/** samplingPlan's plan, which can also fold walks that carry their own last points. */
export interface SamplingPlan extends PerturbationPlan {
  /**
   * Folds row `row`'s walks from `values[from]` on, n points per walk including the last (x
   * itself), from `walkBaseline` (f(baseline) as the walks compute it); returns the values read.
   */
  foldWalks(row: number, values: ModelOutput, from: number, walkBaseline: number): number;
}

export function samplingPlan(input: SamplingPlanInput): SamplingPlan {
  const { layout, width, features, scores, baseline, logitSpace, pairs, contributions } = input;
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

  const stream = permutationStream(input, perm);
  const startRow = stream.start;
  const shuffle = stream.shuffle;

  /**
   * Folds row `row`'s walks into its contributions (and standard errors). Each walk's last point
   * is f(x) = `fx` when given (the points are the interior ones), else the walk's own last value.
   */
  const foldRow = (row: number, values: ModelOutput, from: number, baselineValue: number, fx: number | undefined): number => {
    const gb = logitSpace ? logit(baselineValue) : baselineValue;
    const gx = fx === undefined ? 0 : logitSpace ? logit(fx) : fx;
    const interior = fx === undefined ? 0 : 1;
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
        for (let step = 0; step < n - interior; step++) {
          const v = values[from++]!;
          const g = logitSpace ? logit(v) : v;
          const p = perm[direction === 0 ? step : n - 1 - step]!;
          target[p] = target[p]! + g - previous;
          previous = g;
        }
        if (interior) {
          const last = perm[direction === 0 ? n - 1 : 0]!;
          target[last] = target[last]! + gx - previous;
        }
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
    fold: (row, values, from, baselineValue) => foldRow(row, values, from, baselineValue, scores[row]!),
    foldWalks: (row, values, from, walkBaseline) => foldRow(row, values, from, walkBaseline, undefined),
  };
}

export interface NetworkSamplingInput extends SamplingPlanInput {
  network: DenseNetwork;
  /** f(baseline) as the model evaluator returned it (probability). */
  baselineValue: number;
  /** The rows to explain: a count (rows 0 to count - 1) or a list. */
  rows: number | readonly number[];
}

/**
 * Sampling Shapley values as samplingPlan computes them (the same permutations and fold), with
 * every walk's points, its ends included, taken from the model's dense network
 * (CoalitionLogits.chainLogits) instead of evaluated rows: float32, within about 1e-7 of ONNX
 * Runtime's values. As with exact Shapley over the walk, the gap between the walks' f(x) - f(b)
 * and the evaluator's is then spread over the players in proportion to |phi|, so contributions
 * add up to the score and a player the network ignores keeps exactly 0. Returns the interior
 * points (2 * pairs * (n - 1) per row, as samplingPlan counts its evaluations).
 */
export function samplingByNetwork(input: NetworkSamplingInput): number {
  const { layout, pairs, network, baseline, features, width, scores, logitSpace, contributions } = input;
  const plan = samplingPlan(input);
  const P = layout.count;
  const perm = new Int32Array(P);
  const players = new Int32Array(P);
  const stream = permutationStream(input, perm);
  const orders = new Int32Array(2 * pairs * P);
  const walker = new CoalitionLogits(network, baseline, { columns: P, chainPoints: orders.length });
  const walkBaseline = walker.baselineValue();
  const g = (v: number) => (logitSpace ? logit(v) : v);
  const target = g(input.baselineValue);
  let points = 0;
  const explainRow = (row: number) => {
    const n = stream.start(row);
    if (n < 2) {
      plan.fold(row, NO_POINTS, 0, input.baselineValue);
      return;
    }
    players.set(perm.subarray(0, n));
    // Each permutation forward, then reversed, every step a point (the last one is x).
    let at = 0;
    for (let k = 0; k < pairs; k++) {
      stream.shuffle(n);
      for (let step = 0; step < n; step++) orders[at++] = perm[step]!;
      for (let step = 0; step < n; step++) orders[at++] = perm[n - 1 - step]!;
    }
    walker.chainLogits(n, players, layout.start, layout.featureOf, features, row * width, baseline, orders, 2 * pairs, n);
    plan.foldWalks(row, walker.values(false, 0), 0, walkBaseline);
    let sum = 0;
    let magnitude = 0;
    const base = row * P;
    for (let p = 0; p < P; p++) {
      sum += contributions[base + p]!;
      magnitude += Math.abs(contributions[base + p]!);
    }
    const residual = g(scores[row]!) - target - sum;
    for (let p = 0; p < P; p++) {
      const c = contributions[base + p]!;
      contributions[base + p] = c + (magnitude > 0 ? (residual * Math.abs(c)) / magnitude : 0);
    }
    points += 2 * pairs * (n - 1);
  };
  if (typeof input.rows === 'number') for (let row = 0; row < input.rows; row++) explainRow(row);
  else for (const row of input.rows) explainRow(row);
  return points;
}
