import { ChurnError } from '@churn/errors';
import type { MethodResult, MethodRun } from './explain-method';
import type { ModelEvaluator } from './explain-types';
import { logit } from './output-space';
import type { PlayerLayout } from './players';
import { checkTreeEnsemble, goesTrue, treeMargin, type TreeEnsemble } from './tree-ensemble';

/**
 * Largest tolerated gap, in the link's own space, between the margin the trees compute and the
 * model's score (rows with scores in [1e-3, 1 - 1e-3], where float32 rounding of a probability
 * moves its logit by < 1e-4). Anything larger means the trees were read wrongly.
 */
const TREE_RESIDUAL_LIMIT = 1e-3;

/** Per (a, b) path sizes: the Shapley weight of a leaf for a player it needs in S (wIn) or out of S (wOut). */
interface WeightTables {
  stride: number;
  /** (a - 1)! b! / (a + b)!: a player that must join (x side), a = |A| >= 1. */
  wIn: Float64Array;
  /** a! (b - 1)! / (a + b)!: a player that must stay out (baseline side), b = |B| >= 1. */
  wOut: Float64Array;
}

function weightTables(depth: number): WeightTables {
  const stride = depth + 1;
  const factorial = [1];
  for (let k = 1; k <= 2 * depth + 1; k++) factorial.push(factorial[k - 1]! * k);
  const wIn = new Float64Array(stride * stride);
  const wOut = new Float64Array(stride * stride);
  for (let a = 0; a <= depth; a++) {
    for (let b = 0; a + b <= depth; b++) {
      if (a > 0) wIn[a * stride + b] = (factorial[a - 1]! * factorial[b]!) / factorial[a + b]!;
      if (b > 0) wOut[a * stride + b] = (factorial[a]! * factorial[b - 1]!) / factorial[a + b]!;
    }
  }
  return { stride, wIn, wOut };
}

/**
 * Exact interventional Shapley values of a tree ensemble's margin against one baseline row, in
 * the margin's own space. The game is v(S) = margin(z_S), z_S taking x on the features of the
 * players in S and the baseline elsewhere.
 *
 * Per tree, z_S follows x and the baseline where they go the same way; where they part, at a
 * node testing a feature of player p, z_S goes x's way exactly when p is in S. So each leaf is
 * reached exactly by the coalitions that contain a set A of players and avoid a set B (a player
 * met again deeper down keeps its side), and the leaf's game `value * [A in S][B outside S]`
 * has the closed-form Shapley values `value * (|A| - 1)! |B|! / (|A| + |B|)!` for each player of
 * A and `-value * |A|! (|B| - 1)! / (|A| + |B|)!` for each player of B (0 for everyone else).
 * Summing over the leaves reachable by some z_S gives the exact values; a walk visits only the
 * nodes where x and the baseline part, so a depth-d tree costs at most 2^d leaves per row and
 * usually far fewer. Grouped features play as one: p is the player owning the feature.
 */
export class TreeShap {
  /** Margin of the baseline row. */
  readonly baselineMargin: number;
  /**
   * Adds the Shapley values (margin space) of the first `rows` rows of `features` (row-major,
   * `width` values per row) into `phi`, row r's players from `r * players` on.
   */
  readonly rows: (features: Float32Array, rows: number, width: number, phi: Float64Array) => void;

  constructor(trees: TreeEnsemble, layout: PlayerLayout, baseline: Float32Array) {
    const depth = checkTreeEnsemble(trees);
    const playerOf = new Int32Array(trees.featureCount);
    for (let p = 0; p < layout.count; p++) for (let q = layout.start[p]!; q < layout.start[p + 1]!; q++) playerOf[layout.featureOf[q]!] = p;
    this.rows = treeWalker(trees, playerOf, baseline, layout.count, depth);
    this.baselineMargin = treeMargin(trees, baseline, 0);
  }
}

/**
 * The walk of TreeShap as a closure over plain typed arrays (no property loads per node: this is
 * the inner loop of `--explain all` on tree bundles). It runs tree by tree over all the rows, not
 * row by row over the trees: consecutive walks then take the same tree's branches, which the
 * CPU predicts better (docs/decisions.md, "Tree ensembles read with onnx-proto"). Per node,
 * `next[2 * node]` is the child x takes when the test is true and `next[2 * node + 1]` when it
 * is false; `baseNext` is the child the baseline takes.
 */
function treeWalker(trees: TreeEnsemble, playerOf: Int32Array, baseline: Float32Array, players: number, depth: number): TreeShap['rows'] {
  const { feature, threshold, mode, missingTrue, roots, leafValue } = trees;
  const n = feature.length;
  const next = new Int32Array(2 * n);
  const baseNext = new Int32Array(n);
  for (let node = 0; node < n; node++) {
    next[2 * node] = trees.trueChild[node]!;
    next[2 * node + 1] = trees.falseChild[node]!;
    const f = feature[node]!;
    if (f >= 0) baseNext[node] = goesTrue(trees, node, baseline[f]!) ? trees.trueChild[node]! : trees.falseChild[node]!;
  }
  const { stride, wIn, wOut } = weightTables(depth);
  /** Per player: 0 not met yet on this path, 1 required in S, 2 required outside S. */
  const state = new Uint8Array(players);
  const pathIn = new Int32Array(depth + 1);
  const pathOut = new Int32Array(depth + 1);
  let features: Float32Array = new Float32Array(0);
  let at = 0;
  let phi: Float64Array = new Float64Array(0);
  /** Where the current row's players start in `phi`. */
  let phiAt = 0;

  /** The child row x goes to at `node` (goesTrue, inlined for the common modes). */
  const xNext = (node: number, value: number): number => {
    const m = mode[node]!;
    let yes: boolean;
    if (value !== value) yes = missingTrue[node] === 1 || m === 5;
    else if (m === 0) yes = value <= threshold[node]!;
    else if (m === 1) yes = value < threshold[node]!;
    else yes = goesTrue(trees, node, value);
    return next[2 * node + (yes ? 0 : 1)]!;
  };

  /** Walks from `start` with `nIn` players required in S and `nOut` required outside it. */
  const walk = (start: number, nIn: number, nOut: number): void => {
    let node = start;
    for (;;) {
      const f = feature[node]!;
      if (f < 0) {
        if (nIn + nOut === 0) return;
        const v = leafValue[node]!;
        const plus = v * wIn[nIn * stride + nOut]!;
        const minus = v * wOut[nIn * stride + nOut]!;
        for (let i = 0; i < nIn; i++) {
          const q = phiAt + pathIn[i]!;
          phi[q] = phi[q]! + plus;
        }
        for (let i = 0; i < nOut; i++) {
          const q = phiAt + pathOut[i]!;
          phi[q] = phi[q]! - minus;
        }
        return;
      }
      const xChild = xNext(node, features[at + f]!);
      const bChild = baseNext[node]!;
      if (xChild === bChild) {
        node = xChild;
        continue;
      }
      const p = playerOf[f]!;
      const side = state[p]!;
      if (side !== 0) {
        node = side === 1 ? xChild : bChild;
        continue;
      }
      state[p] = 1;
      pathIn[nIn] = p;
      walk(xChild, nIn + 1, nOut);
      state[p] = 2;
      pathOut[nOut] = p;
      walk(bChild, nIn, nOut + 1);
      state[p] = 0;
      return;
    }
  };

  return (matrix, rows, width, out) => {
    features = matrix;
    phi = out;
    for (let t = 0; t < roots.length; t++) {
      const root = roots[t]!;
      for (let r = 0; r < rows; r++) {
        at = r * width;
        phiAt = r * players;
        walk(root, 0, 0);
      }
    }
  };
}

/**
 * The `tree` method: TreeSHAP values in the link's space (logit for gradient boosting), made to
 * add up to the model's own scores, then mapped to the requested space.
 *
 * - The margin differences are exact; the gap to `g(score) - g(f(b))` (g the link's space, f the
 *   model as ONNX Runtime evaluates it, float32) is float noise. It is spread over the players in
 *   proportion to their size, as `linear` does, so efficiency holds exactly; a gap above 1e-3 on
 *   an unsaturated row means the trees do not reproduce the model (MODEL_MISMATCH).
 * - The other space is reached with the secant slope of the sigmoid between f(b) and f(x), the
 *   additive correction `linear` uses: contributions stay proportional and add up.
 *
 * One model evaluation in total (the baseline row).
 */
export async function explainTrees(model: ModelEvaluator, run: MethodRun): Promise<MethodResult> {
  const trees = model.trees;
  if (!trees) throw new ChurnError('INVALID_ARGUMENT', 'the tree method needs the model as a tree ensemble');
  const { layout, width, rows, features, scores, baseline, logitSpace, contributions } = run;
  if (trees.featureCount !== width) {
    throw new ChurnError('MODEL_MISMATCH', `the tree ensemble reads ${trees.featureCount} features but the model takes ${width}`);
  }
  const shap = new TreeShap(trees, layout, baseline);
  const values = await model.evaluate(baseline, 1);
  if (values.length < 1) throw new ChurnError('MODEL_MISMATCH', 'the model evaluator returned no value for the baseline row');
  const fb = values[0]!;
  const logistic = trees.link === 'logistic';
  // g: the link's own (additive) space; the other: the space reached through the secant.
  const g = (p: number) => (logistic ? logit(p) : p);
  const other = (p: number) => (logistic ? p : logit(p));
  const gb = g(fb);
  const ob = other(fb);
  const P = layout.count;
  const phi = new Float64Array(rows * P);
  shap.rows(features, rows, width, phi);
  let worst = 0;
  for (let row = 0; row < rows; row++) {
    const at = row * P;
    const fx = scores[row]!;
    const delta = g(fx) - gb;
    let sum = 0;
    let magnitude = 0;
    for (let p = at; p < at + P; p++) {
      sum += phi[p]!;
      magnitude += Math.abs(phi[p]!);
    }
    const residual = delta - sum;
    if ((!logistic || (fx >= 1e-3 && fx <= 1 - 1e-3)) && !(Math.abs(residual) <= worst)) worst = Math.abs(residual);
    if (residual !== 0) {
      if (magnitude > 0) for (let p = at; p < at + P; p++) phi[p] = phi[p]! + (residual * Math.abs(phi[p]!)) / magnitude;
      else for (let p = at; p < at + P; p++) phi[p] = phi[p]! + residual / P;
    }
    // In the link's space when asked for it; otherwise scaled by the secant slope.
    let slope = 1;
    if (logitSpace !== logistic) {
      const otherDelta = other(fx) - ob;
      if (Math.abs(delta) > 1e-9) slope = otherDelta / delta;
      else slope = logistic ? fb * (1 - fb) : 1 / Math.max(fb * (1 - fb), 1e-12);
    }
    for (let p = at; p < at + P; p++) contributions[p] = phi[p]! * slope;
  }
  if (worst > TREE_RESIDUAL_LIMIT || Number.isNaN(worst)) {
    throw new ChurnError('MODEL_MISMATCH', `the tree ensemble read from the model does not reproduce its scores (off by up to ${worst.toPrecision(3)} in ${logistic ? 'logit' : 'probability'} space); explain this model with method sampling, and report the model's converter`, {
      details: { residual: worst },
    });
  }
  return { baseValue: logitSpace ? logit(fb) : fb, evaluations: 1, evaluateCalls: 1, treeResidual: worst };
}
