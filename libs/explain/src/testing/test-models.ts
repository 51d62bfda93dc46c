/**
 * Pure-JS models and an independent brute-force Shapley oracle for the explain specs. Nothing here
 * shares code with the explainer: the oracle enumerates player orders and evaluates the model one
 * row at a time.
 */
import type { ModelEvaluator } from '../explain-types';
import type { Player } from '../players';

/** A tiny seeded generator for test data (xorshift32), independent of the explainer's PRNG. */
export function testRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** A model as a function of one row. */
export type RowModel = (row: Float32Array) => number;

export interface CountingEvaluator extends ModelEvaluator {
  /** Rows of each evaluate() call, in order. */
  readonly calls: number[];
}

/** Wraps a per-row JS model as a ModelEvaluator that records every call's size. */
export function evaluatorOf(model: RowModel, featureCount: number): CountingEvaluator {
  const calls: number[] = [];
  return {
    featureCount,
    calls,
    evaluate(matrix, rows) {
      calls.push(rows);
      const out = new Float32Array(rows);
      for (let r = 0; r < rows; r++) out[r] = model(matrix.subarray(r * featureCount, (r + 1) * featureCount));
      return Promise.resolve(out);
    },
  };
}

/** A 2-layer MLP (tanh hidden layer, sigmoid output) with seeded weights; `zeroInputs` are ignored by the model. */
export function mlpModel(inputs: number, hidden: number, seed: number, zeroInputs: readonly number[] = []): RowModel {
  const rnd = testRandom(seed);
  const w1 = Float64Array.from({ length: inputs * hidden }, (_, k) => (zeroInputs.includes(k % inputs) ? 0 : (rnd() - 0.5) * 2.4));
  const b1 = Float64Array.from({ length: hidden }, () => (rnd() - 0.5) * 0.6);
  const w2 = Float64Array.from({ length: hidden }, () => (rnd() - 0.5) * 3);
  const b2 = -1;
  return (row) => {
    let z = b2;
    for (let h = 0; h < hidden; h++) {
      let a = b1[h]!;
      for (let i = 0; i < inputs; i++) a += w1[h * inputs + i]! * row[i]!;
      z += w2[h]! * Math.tanh(a);
    }
    return sigmoid(z);
  };
}

/** sigmoid(w.x + b). */
export function logisticModel(weights: readonly number[], bias: number): RowModel {
  return (row) => {
    let z = bias;
    for (let i = 0; i < weights.length; i++) z += weights[i]! * row[i]!;
    return sigmoid(z);
  };
}

/** Random rows, row-major, values in [-2, 2]. */
export function randomRows(rows: number, width: number, seed: number): Float32Array {
  const rnd = testRandom(seed);
  return Float32Array.from({ length: rows * width }, () => (rnd() - 0.5) * 4);
}

/** Each feature its own player. */
export function singletonPlayers(width: number, actionable = true): Player[] {
  return Array.from({ length: width }, (_, f) => ({ id: `f${f}`, features: [f], actionable }));
}

export function scoresOf(model: RowModel, rows: Float32Array, count: number, width: number): Float32Array {
  const out = new Float32Array(count);
  for (let r = 0; r < count; r++) out[r] = model(rows.subarray(r * width, (r + 1) * width));
  return out;
}

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((rest) => Array.from({ length: n }, (_, at) => [...rest.slice(0, at), n - 1, ...rest.slice(at)]));
}

/**
 * Brute-force Shapley values of one row: the average, over every order of the players, of each
 * player's marginal difference when it joins. `transform` maps f into the output space.
 */
export function bruteForceShapley(
  model: RowModel,
  x: Float32Array,
  baseline: Float32Array,
  players: readonly Player[],
  transform: (p: number) => number = (p) => p,
): number[] {
  const value = (members: ReadonlySet<number>): number => {
    const row = Float32Array.from(baseline);
    for (const p of members) for (const f of players[p]!.features) row[f] = x[f]!;
    return transform(model(row));
  };
  const orders = permutations(players.length);
  const phi = new Array<number>(players.length).fill(0);
  for (const order of orders) {
    const members = new Set<number>();
    let previous = value(members);
    for (const p of order) {
      members.add(p);
      const current = value(members);
      phi[p]! += current - previous;
      previous = current;
    }
  }
  return phi.map((v) => v / orders.length);
}

export const clampedLogit = (p: number): number => {
  const q = Math.min(Math.max(p, 1e-7), 1 - 1e-7);
  return Math.log(q / (1 - q));
};
