import { ChurnError } from '@churn/errors';
import type { PerturbationPlan } from './evaluation-chunks';
import { MAX_EXACT_PLAYERS, type ModelOutput } from './explain-types';
import { logit, LOGIT_EPSILON } from './output-space';
import { CoalitionLogits, type DenseNetwork } from './dense-network';
import { differingPlayers, type PlayerLayout } from './players';

export interface ExactPlanInput {
  layout: PlayerLayout;
  width: number;
  features: Float32Array;
  scores: ModelOutput;
  baseline: Float32Array;
  logitSpace: boolean;
  /** rows x players, written by fold. */
  contributions: Float32Array;
  /** Most players allowed (default MAX_EXACT_PLAYERS). */
  maxPlayers?: number;
  /** The most players that differ from the baseline in any row, when known (sizes the buffers). */
  maxActive?: number;
}

/** Refuses player counts whose 2^P coalitions per row would be unaffordable. */
export function checkExactPlayers(players: number, limit: number = MAX_EXACT_PLAYERS): void {
  if (players > limit) {
    throw new ChurnError('INVALID_ARGUMENT', `exact Shapley evaluates 2^P coalitions per row and is limited to ${limit} players; this model has ${players} (2^${players} = ${2 ** players} evaluations per row); use method sampling`, {
      details: { players, limit },
    });
  }
}

/** Shapley weight of a coalition of size s not containing the player, s! (n - s - 1)! / n!, for s < n. */
function shapleyWeights(n: number): Float64Array {
  const weight = new Float64Array(Math.max(n, 1));
  for (let s = 0; s < n; s++) weight[s] = 1 / (n * binomial(n - 1, s));
  return weight;
}

/** The working arrays of an exact computation over P players. */
function exactScratch(P: number) {
  const weights: (Float64Array | undefined)[] = [];
  const size = new Uint8Array(1 << P);
  for (let m = 1; m < size.length; m++) size[m] = size[m >>> 1]! + (m & 1);
  return {
    weightsFor: (n: number): Float64Array => (weights[n] ??= shapleyWeights(n)),
    /** Coalition sizes by mask. */
    size,
    active: new Int32Array(P),
    value: new Float64Array(1 << P),
    phi: new Float64Array(P),
    activePhi: new Float64Array(P),
  };
}

/**
 * Exact Shapley values over all coalitions of players against the baseline. A coalition row takes
 * x on the coalition's features and the baseline elsewhere. Players whose features equal the
 * baseline in a row are null players there (exactly 0) and are left out of that row's game.
 * A customer's rows are its coalitions in binary order (row `mask - 1` for coalition `mask`), so
 * they are built by doubling: the coalitions that hold active player k are those below 2^k with
 * k added, one block copy and then k's features written into the copy. The empty coalition
 * (f(baseline), shared) and the full one (f(x), the given score) are not evaluated: at most
 * 2^P - 2 evaluations per row.
 */
export function exactPlan(input: ExactPlanInput): PerturbationPlan {
  const { layout, width, features, scores, baseline, logitSpace, contributions } = input;
  const P = layout.count;
  checkExactPlayers(P, input.maxPlayers);
  const { start, featureOf } = layout;
  const { weightsFor, size, active, value, phi, activePhi } = exactScratch(P);
  const slotsFor = (n: number) => (n < 2 ? 0 : (1 << n) - 2);

  return {
    maxRowsPerCustomer: Math.max(0, (1 << Math.min(P, input.maxActive ?? P)) - 2),
    build(row, out, at) {
      const x = row * width;
      const n = differingPlayers(layout, features, x, baseline, active);
      if (n < 2) return 0;
      // Coalition m (0 < m < 2^n - 1) is row m - 1 from `at`.
      for (let k = 0; k < n; k++) {
        // {k} alone: the baseline, then k's features below. For the last player the copy stops
        // short of the full coalition, which is not evaluated.
        const lone = at + ((1 << k) - 1) * width;
        out.set(baseline, lone);
        const copied = k === n - 1 ? (1 << k) - 2 : (1 << k) - 1;
        if (copied > 0) out.copyWithin(lone + width, at, at + copied * width);
        const p = active[k]!;
        for (let r = lone, end = lone + (copied + 1) * width; r < end; r += width) {
          for (let q = start[p]!, last = start[p + 1]!; q < last; q++) {
            const f = featureOf[q]!;
            out[r + f] = features[x + f]!;
          }
        }
      }
      return slotsFor(n);
    },
    fold(row, values, from, baselineValue) {
      const n = differingPlayers(layout, features, row * width, baseline, active);
      const weight = weightsFor(n);
      const full = (1 << n) - 1;
      const fx = scores[row]!;
      value[0] = logitSpace ? logit(baselineValue) : baselineValue;
      value[full] = logitSpace ? logit(fx) : fx;
      for (let m = 1; m < full; m++) {
        const v = values[from + m - 1]!;
        value[m] = logitSpace ? logit(v) : v;
      }
      shapleyFromValues(value, n, size, weight, activePhi);
      phi.fill(0);
      for (let q = 0; q < n; q++) phi[active[q]!] = activePhi[q]!;
      contributions.set(phi, row * P);
      return slotsFor(n);
    },
  };
}

const LOGIT_LIMIT = logit(1 - LOGIT_EPSILON);

export interface NetworkExactInput extends ExactPlanInput {
  network: DenseNetwork;
  /** f(baseline) as the model evaluator returned it (probability): the empty coalition's value. */
  baselineValue: number;
  /** The rows to explain: a count (rows 0 to count - 1) or a list. */
  rows: number | readonly number[];
}

/**
 * Exact Shapley values as exactPlan computes them, with every coalition's value taken from the
 * coalition walk over the model's dense network instead of an evaluated row (float32, within
 * about 1e-7 of ONNX Runtime's values). Contributions add up to the evaluator's f(x) - f(baseline).
 * Returns the coalitions walked (2^n - 2 per row, as exactPlan counts its evaluations).
 */
export function exactByNetwork(input: NetworkExactInput): number {
  const { layout, width, features, scores, baseline, logitSpace, contributions, network } = input;
  const P = layout.count;
  checkExactPlayers(P, input.maxPlayers);
  if (input.rows === 0 || (typeof input.rows !== 'number' && input.rows.length === 0)) return 0;
  const { weightsFor, active, phi, activePhi } = exactScratch(P);
  const players = Math.min(P, input.maxActive ?? P);
  const walker = new CoalitionLogits(network, baseline, { columns: players, walkPlayers: players });
  const empty = logitSpace ? logit(input.baselineValue) : input.baselineValue;
  let evaluations = 0;
  const explainRow = (row: number) => {
    const x = row * width;
    const n = differingPlayers(layout, features, x, baseline, active);
    const full = (1 << n) - 1;
    const fx = logitSpace ? logit(scores[row]!) : scores[row]!;
    phi.fill(0);
    if (n >= 2) {
      // Every coalition from the walk, the empty and full ones too, so that a player the network
      // ignores has marginals of exactly 0; then the gap between the walk's f(x) - f(baseline)
      // (float32) and the evaluator's is spread over the players in proportion to |phi|, as
      // TreeSHAP does, so contributions add up to the score exactly.
      walker.logits(n, active, layout.start, layout.featureOf, features, x, baseline);
      const value = walker.values(logitSpace, LOGIT_LIMIT);
      const residual = fx - empty - (value[full]! - value[0]!);
      walker.shapley(n, weightsFor(n), ROUNDING_SHARE, activePhi);
      let magnitude = 0;
      for (let q = 0; q < n; q++) magnitude += Math.abs(activePhi[q]!);
      for (let q = 0; q < n; q++) phi[active[q]!] = activePhi[q]! + (magnitude > 0 ? (residual * Math.abs(activePhi[q]!)) / magnitude : residual / n);
      evaluations += full - 1;
    } else if (n === 1) phi[active[0]!] = fx - empty;
    contributions.set(phi, row * P);
  };
  if (typeof input.rows === 'number') for (let row = 0; row < input.rows; row++) explainRow(row);
  else for (const row of input.rows) explainRow(row);
  return evaluations;
}

/**
 * Below this share of the largest coalition value, a contribution is rounding, not signal: model
 * outputs are float32 (about 6e-8 relative), and the sums below carry float64 rounding of about
 * 2^n x 1e-16 of that scale. Snapping it to 0 keeps a player the model ignores at exactly 0.
 */
const ROUNDING_SHARE = 1e-10;

/**
 * Every active player's Shapley value from the coalition values `value[mask]` (all 2^n of them;
 * overwritten), in O(2^n) rather than the O(n 2^n) of summing each player's marginals. With
 * inside(s) = w(s - 1), outside(s) = w(s), c(S) = v(S) (inside + outside)(|S|) and
 * B = sum_S v(S) outside(|S|), phi_q = (sum of c(S) over the S holding q) - B. Those sums come
 * from halving the table n times: entries 2j and 2j + 1 differ in the lowest player, so the odd
 * entries add up to that player's sum, and the pair sums are the same problem for the others.
 */
function shapleyFromValues(value: Float64Array, n: number, size: Uint8Array, weight: Float64Array, phi: Float64Array): void {
  let masks = 1 << n;
  let base = 0;
  let scale = 0;
  for (let m = 0; m < masks; m++) {
    const v = value[m]!;
    const s = size[m]!;
    const outside = s < n ? weight[s]! : 0;
    const inside = s > 0 ? weight[s - 1]! : 0;
    base += v * outside;
    scale = Math.max(scale, Math.abs(v));
    value[m] = v * (inside + outside);
  }
  const rounding = ROUNDING_SHARE * scale;
  for (let q = 0; q < n; q++) {
    masks >>>= 1;
    let holding = 0;
    for (let j = 0; j < masks; j++) {
      const odd = value[2 * j + 1]!;
      holding += odd;
      value[j] = value[2 * j]! + odd;
    }
    const contribution = holding - base;
    phi[q] = Math.abs(contribution) <= rounding ? 0 : contribution;
  }
}

function binomial(n: number, k: number): number {
  let result = 1;
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i;
  return result;
}
