import { runInChunks, type PerturbationPlan } from './evaluation-chunks';
import { exactByNetwork, exactPlan } from './exact-shapley';
import type { MethodResult, MethodRun } from './explain-method';
import type { ModelEvaluator } from './explain-types';
import { logit } from './output-space';
import { differingPlayers } from './players';
import { samplingByNetwork, samplingPlan } from './sampling-shapley';

/** A row is refined when another actionable player is within this many standard errors of its first reason. */
export const REFINE_Z = 2;
/** Refined rows with at most this many differing players are computed exactly (2^P - 2 evaluations). */
export const REFINE_EXACT_PLAYERS = 14;
/** Refined rows with more players get this many times the permutation pairs. */
export const REFINE_PAIRS_FACTOR = 8;

/**
 * Whether row `row`'s first reason is in doubt: some other actionable player's contribution is
 * within REFINE_Z standard errors (of the two) of the leader's.
 */
function closeCall(run: MethodRun, se: Float32Array, row: number): boolean {
  const P = run.layout.count;
  const base = row * P;
  let leader = -1;
  for (let p = 0; p < P; p++) {
    if (!run.actionable[p]) continue;
    if (leader < 0 || run.contributions[base + p]! > run.contributions[base + leader]!) leader = p;
  }
  if (leader < 0) return false;
  const top = run.contributions[base + leader]!;
  const topSe = se[base + leader]!;
  // No reason at all (nothing pushes risk up) unless the leader might be positive.
  if (top + REFINE_Z * topSe <= 0) return false;
  if (top - REFINE_Z * topSe <= 0) return true;
  for (let p = 0; p < P; p++) {
    if (p === leader || !run.actionable[p]) continue;
    const c = run.contributions[base + p]!;
    if (top - c <= REFINE_Z * Math.hypot(topSe, se[base + p]!)) return true;
  }
  return false;
}

/** Runs `plan` over the subset `rows` of `run` and writes their contributions back. */
async function rerun(model: ModelEvaluator, run: MethodRun, rows: number[], planOf: (sub: MethodRun) => PerturbationPlan): Promise<{ evaluations: number; evaluateCalls: number }> {
  if (rows.length === 0) return { evaluations: 0, evaluateCalls: 0 };
  const { width } = run;
  const P = run.layout.count;
  const features = new Float32Array(rows.length * width);
  const scores = new Float64Array(rows.length);
  const rowKeys = new Uint32Array(rows.length);
  rows.forEach((r, j) => {
    features.set(run.features.subarray(r * width, (r + 1) * width), j * width);
    scores[j] = run.scores[r]!;
    rowKeys[j] = run.rowKeys[r]!;
  });
  const contributions = new Float32Array(rows.length * P);
  const sub: MethodRun = { ...run, rows: rows.length, features, scores, rowKeys, contributions };
  const result = await runInChunks(model, planOf(sub), rows.length, run.baseline, run.minBatch);
  rows.forEach((r, j) => run.contributions.set(contributions.subarray(j * P, (j + 1) * P), r * P));
  // The baseline row rides along in the first chunk: one evaluation not spent on the rows.
  return { evaluations: result.evaluations, evaluateCalls: result.evaluateCalls };
}

/**
 * Sampling that spends evaluations where they matter. First every row gets `permutations`
 * antithetic pairs, with each contribution's standard error across the pairs. Then:
 * - rows whose exact Shapley values cost no more than that (2^n - 2 <= 2 * pairs * (n - 1), n the
 *   players differing from the baseline) are computed exactly;
 * - rows whose first reason is a close call (another actionable player within REFINE_Z standard
 *   errors) are recomputed exactly when n <= REFINE_EXACT_PLAYERS, else with REFINE_PAIRS_FACTOR
 *   times the pairs (the same permutation stream, extended).
 * Every decision reads only the row's own values, so results stay independent of sharding and
 * batching; contributions add up exactly in every case.
 */
export async function explainAdaptiveSampling(model: ModelEvaluator, run: MethodRun): Promise<MethodResult> {
  const { layout, width, features, scores, baseline, logitSpace, contributions, rowKeys, options } = run;
  const pairs = options.permutations;
  const P = layout.count;
  const se = new Float32Array(run.rows * P);
  const common = { layout, width, features, scores, baseline, logitSpace, contributions };
  const { network } = model;
  const firstPlan = { ...common, rowKeys, pairs, seed: options.seed, standardErrors: se };
  // A dense network's walks come from its weights (one evaluate() call, for f(baseline)); any
  // other model's points are evaluated in chunks, the baseline row riding along.
  const first = network
    ? await (async () => {
        const baselineValue = (await model.evaluate(baseline, 1))[0]!;
        return { baseline: baselineValue, evaluations: 1 + samplingByNetwork({ ...firstPlan, network, baselineValue, rows: run.rows }), evaluateCalls: 1 };
      })()
    : await runInChunks(model, samplingPlan(firstPlan), run.rows, baseline, run.minBatch);
  let evaluations = first.evaluations;
  let evaluateCalls = first.evaluateCalls;
  if (options.refine !== false) {
    const exact: number[] = [];
    const more: number[] = [];
    const active = new Int32Array(P);
    let maxActive = 0;
    for (let row = 0; row < run.rows; row++) {
      const n = differingPlayers(layout, features, row * width, baseline, active);
      if (n < 2) continue;
      const exactCost = 2 ** n - 2;
      const toExact = exactCost <= 2 * pairs * (n - 1) || (n <= REFINE_EXACT_PLAYERS && closeCall(run, se, row));
      if (toExact) {
        exact.push(row);
        maxActive = Math.max(maxActive, n);
      } else if (closeCall(run, se, row)) more.push(row);
    }
    const maxPlayers = Math.max(P, REFINE_EXACT_PLAYERS);
    // A dense network's coalitions and walks come from its weights, written straight into these rows.
    const morePairs = pairs * REFINE_PAIRS_FACTOR;
    const exactRun = network
      ? { evaluations: exactByNetwork({ ...common, network, baselineValue: first.baseline, rows: exact, maxPlayers, maxActive }), evaluateCalls: 0 }
      : await rerun(model, run, exact, (sub) => exactPlan({ ...sub, maxPlayers, maxActive }));
    const moreRun = network
      ? { evaluations: samplingByNetwork({ ...common, rowKeys, pairs: morePairs, seed: options.seed, network, baselineValue: first.baseline, rows: more }), evaluateCalls: 0 }
      : await rerun(model, run, more, (sub) => samplingPlan({ ...sub, pairs: morePairs, seed: options.seed }));
    evaluations += exactRun.evaluations + moreRun.evaluations;
    evaluateCalls += exactRun.evaluateCalls + moreRun.evaluateCalls;
  }
  return { baseValue: logitSpace ? logit(first.baseline) : first.baseline, evaluations, evaluateCalls };
}
