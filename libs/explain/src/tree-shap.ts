// The WebAssembly declarations must reach every project that type-checks this lib.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./webassembly.d.ts" />
import { ChurnError } from '@churn/errors';
import type { MethodResult, MethodRun } from './explain-method';
import type { ModelEvaluator } from './explain-types';
import { logit } from './output-space';
import type { PlayerLayout } from './players';
import { checkTreeEnsemble, goesTrue, TREE_NODE_MODES, treeMargin, type TreeEnsemble } from './tree-ensemble';
import { TREE_WALK_WASM } from './tree-walk-wasm';

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
   * the ensemble's `featureCount` values per row) into `phi`, row r's players from `r * players` on.
   */
  readonly rows: (features: Float32Array, rows: number, phi: Float64Array) => void;

  constructor(trees: TreeEnsemble, layout: PlayerLayout, baseline: Float32Array) {
    const depth = checkTreeEnsemble(trees);
    const playerOf = new Int32Array(trees.featureCount);
    for (let p = 0; p < layout.count; p++) for (let q = layout.start[p]!; q < layout.start[p + 1]!; q++) playerOf[layout.featureOf[q]!] = p;
    this.rows = treeWalker(trees, playerOf, baseline, layout.count, depth);
    this.baselineMargin = treeMargin(trees, baseline, 0);
  }
}

/** Rows walked per call into the WebAssembly walk: its memory holds one block's rows, whatever the shard's size. */
const BLOCK_ROWS = 8192;
/** Bytes per node in the walk's node table (the layout is in tree-walk.wat). */
const NODE_BYTES = 32;
/** Split kinds of the node table: every mode becomes one of these, with its children swapped where it negates. */
const KIND_LEQ = 0;
const KIND_LT = 1;
const KIND_EQ = 2;

let walkModule: WebAssembly.Module | undefined;

/** The walk's module, compiled once per thread (it is tiny; instances are per TreeShap). */
function treeWalkModule(): WebAssembly.Module {
  walkModule ??= new WebAssembly.Module(Uint8Array.from(atob(TREE_WALK_WASM), (c) => c.charCodeAt(0)));
  return walkModule;
}

interface TreeWalkExports {
  memory: WebAssembly.Memory;
  setup(state: number, pathIn: number, pathOut: number, wIn: number, wOut: number, stride: number): void;
  rows(roots: number, trees: number, features: number, rows: number, rowBytes: number, phi: number, phiBytes: number): void;
}

/** The walk instance's exports, checked (a stale or foreign module fails here, not in the walk). */
function walkExports(instance: WebAssembly.Instance): TreeWalkExports {
  const { memory, setup, rows } = instance.exports;
  if (!(memory instanceof WebAssembly.Memory) || typeof setup !== 'function' || typeof rows !== 'function') {
    throw new ChurnError('INTERNAL', 'the TreeSHAP walk module lacks its exports (memory, setup, rows); rebuild it with npm run build:wasm');
  }
  return { memory, setup: setup as TreeWalkExports['setup'], rows: rows as TreeWalkExports['rows'] };
}

/**
 * The walk of TreeShap, run in WebAssembly (tree-walk.wat): the inner loop of `--explain all` on
 * tree bundles, about 2.5 times faster there than the same walk in JavaScript, with equal results
 * (docs/decisions.md, "Tree ensembles read with onnx-proto"). Here the ensemble becomes the
 * walk's node table: each node's test as `x <= t`, `x < t` or `x == t` (the other modes negate
 * one of these, so their children swap), the child a missing x takes, and the child the baseline
 * takes, which is fixed for a given baseline. It runs tree by tree over a block of rows, not row
 * by row over the trees: consecutive walks then take the same tree's branches, which the CPU
 * predicts better.
 */
function treeWalker(trees: TreeEnsemble, playerOf: Int32Array, baseline: Float32Array, players: number, depth: number): TreeShap['rows'] {
  const walk = walkExports(new WebAssembly.Instance(treeWalkModule(), {}));
  const n = trees.feature.length;
  const { stride, wIn, wOut } = weightTables(depth);
  let top = 0;
  const take = (bytes: number): number => {
    const at = top;
    top += Math.ceil(bytes / 8) * 8;
    return at;
  };
  const nodes = take(NODE_BYTES * n);
  const state = take(8 * players);
  const pathIn = take(4 * (depth + 1));
  const pathOut = take(4 * (depth + 1));
  const wInAt = take(8 * wIn.length);
  const wOutAt = take(8 * wOut.length);
  const roots = take(4 * trees.roots.length);
  // One block of rows and their values.
  const width = trees.featureCount;
  const blockFeatures = take(4 * width * BLOCK_ROWS);
  const blockPhi = take(8 * players * BLOCK_ROWS);
  const missingBytes = top - walk.memory.buffer.byteLength;
  if (missingBytes > 0) walk.memory.grow(Math.ceil(missingBytes / 65_536));

  const memory = new DataView(walk.memory.buffer);
  const address = (node: number) => nodes + NODE_BYTES * node;
  for (let node = 0; node < n; node++) {
    const at = address(node);
    const f = trees.feature[node]!;
    if (f < 0) {
      memory.setInt32(at, -1, true);
      memory.setFloat64(at + 8, trees.leafValue[node]!, true);
      continue;
    }
    const mode = TREE_NODE_MODES[trees.mode[node]!];
    const yes = trees.trueChild[node]!;
    const no = trees.falseChild[node]!;
    // GTE is not LT, GT not LEQ, NEQ not EQ (x is not NaN here: NaN has its own child).
    const kind = mode === 'BRANCH_LEQ' || mode === 'BRANCH_GT' ? KIND_LEQ : mode === 'BRANCH_LT' || mode === 'BRANCH_GTE' ? KIND_LT : KIND_EQ;
    const negated = mode === 'BRANCH_GTE' || mode === 'BRANCH_GT' || mode === 'BRANCH_NEQ';
    const missing = trees.missingTrue[node] === 1 || mode === 'BRANCH_NEQ' ? yes : no;
    memory.setInt32(at, f * 4 + kind, true);
    memory.setInt32(at + 4, playerOf[f]! * 8, true);
    memory.setFloat64(at + 8, trees.threshold[node]!, true);
    memory.setInt32(at + 16, address(negated ? no : yes), true);
    memory.setInt32(at + 20, address(negated ? yes : no), true);
    memory.setInt32(at + 24, address(missing), true);
    memory.setInt32(at + 28, address(goesTrue(trees, node, baseline[f]!) ? yes : no), true);
  }
  new Float64Array(walk.memory.buffer, wInAt, wIn.length).set(wIn);
  new Float64Array(walk.memory.buffer, wOutAt, wOut.length).set(wOut);
  new Int32Array(walk.memory.buffer, roots, trees.roots.length).set(trees.roots.map(address));
  walk.setup(state, pathIn, pathOut, wInAt, wOutAt, stride);

  return (features, rows, phi) => {
    for (let from = 0; from < rows; from += BLOCK_ROWS) {
      const count = Math.min(BLOCK_ROWS, rows - from);
      new Float32Array(walk.memory.buffer, blockFeatures, count * width).set(features.subarray(from * width, (from + count) * width));
      const out = new Float64Array(walk.memory.buffer, blockPhi, count * players);
      out.set(phi.subarray(from * players, (from + count) * players));
      walk.rows(roots, trees.roots.length, blockFeatures, count, 4 * width, blockPhi, 8 * players);
      phi.set(out, from * players);
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
  shap.rows(features, rows, phi);
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
