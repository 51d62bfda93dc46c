import { ChurnError } from '@churn/errors';

/** Split rules of `ai.onnx.ml` tree ensembles, in the order `TreeEnsemble.mode` indexes them. */
export const TREE_NODE_MODES = ['BRANCH_LEQ', 'BRANCH_LT', 'BRANCH_GTE', 'BRANCH_GT', 'BRANCH_EQ', 'BRANCH_NEQ', 'LEAF'] as const;
export type TreeNodeMode = (typeof TREE_NODE_MODES)[number];
const LEQ = 0;
const LT = 1;
const GTE = 2;
const GT = 3;
const EQ = 4;

/**
 * How the ensemble's additive output (`base` + one leaf per tree, the "margin") becomes P(churn):
 * `logistic` (gradient boosting: XGBoost, LightGBM, scikit-learn GBDT, `churn train --kind gbdt`)
 * or `identity` (probability averaging: random forests).
 */
export type TreeLink = 'logistic' | 'identity';

/**
 * A tree ensemble as plain arrays, nodes of all trees flattened (children are global node
 * indices). Read from an ONNX `TreeEnsembleClassifier`/`TreeEnsembleRegressor` graph (model-
 * trainer's `readTreeEnsemble`) or built by the GBDT trainer; this lib only evaluates and
 * explains it.
 */
export interface TreeEnsemble {
  /** Model input width. */
  readonly featureCount: number;
  /** Per node: the feature index tested, or -1 for a leaf. */
  readonly feature: Int32Array;
  /** Per node: the threshold (a float32 value, as ONNX stores it). */
  readonly threshold: Float64Array;
  /** Per node: index into TREE_NODE_MODES. */
  readonly mode: Uint8Array;
  /** Per node: 1 when a missing (NaN) value takes the true branch. */
  readonly missingTrue: Uint8Array;
  readonly trueChild: Int32Array;
  readonly falseChild: Int32Array;
  /** Per leaf node: its contribution to the margin (already signed and scaled); 0 elsewhere. */
  readonly leafValue: Float64Array;
  /** Root node of each tree. */
  readonly roots: Int32Array;
  /** Margin offset (base values). */
  readonly base: number;
  readonly link: TreeLink;
}

/** Whether `value` takes node `node`'s true branch: the comparison, or a missing value on a node whose missing values track true. */
export function goesTrue(trees: TreeEnsemble, node: number, value: number): boolean {
  const t = trees.threshold[node]!;
  let c: boolean;
  switch (trees.mode[node]) {
    case LEQ:
      c = value <= t;
      break;
    case LT:
      c = value < t;
      break;
    case GTE:
      c = value >= t;
      break;
    case GT:
      c = value > t;
      break;
    case EQ:
      c = value === t;
      break;
    default:
      c = value !== t;
  }
  return c || (trees.missingTrue[node] === 1 && Number.isNaN(value));
}

/** The margin (base + the leaf of every tree) of row `at` of a row-major matrix. */
export function treeMargin(trees: TreeEnsemble, features: ArrayLike<number>, at: number): number {
  const { feature, trueChild, falseChild, leafValue, roots } = trees;
  let sum = trees.base;
  for (let t = 0; t < roots.length; t++) {
    let node = roots[t]!;
    for (let f = feature[node]!; f >= 0; f = feature[node]!) node = goesTrue(trees, node, features[at + f]!) ? trueChild[node]! : falseChild[node]!;
    sum += leafValue[node]!;
  }
  return sum;
}

/** P(churn) from a margin. */
export function treeProbability(trees: TreeEnsemble, margin: number): number {
  return trees.link === 'logistic' ? 1 / (1 + Math.exp(-margin)) : margin;
}

/**
 * Checks the structure (every node reachable from one root, children in range, leaves marked,
 * features in range, no cycles) and returns the depth of the deepest tree (edges root to leaf).
 *
 * @throws ChurnError INVALID_BUNDLE naming the first problem.
 */
export function checkTreeEnsemble(trees: TreeEnsemble): number {
  const n = trees.feature.length;
  const fail = (why: string) => new ChurnError('INVALID_BUNDLE', `the tree ensemble is malformed: ${why}`);
  for (const [name, array] of [['threshold', trees.threshold], ['mode', trees.mode], ['missingTrue', trees.missingTrue], ['trueChild', trees.trueChild], ['falseChild', trees.falseChild], ['leafValue', trees.leafValue]] as const) {
    if (array.length !== n) throw fail(`${name} has ${array.length} entries for ${n} nodes`);
  }
  if (!Number.isFinite(trees.base)) throw fail(`the base value ${trees.base} is not finite`);
  const seen = new Uint8Array(n);
  let deepest = 0;
  for (let t = 0; t < trees.roots.length; t++) {
    const stack: [number, number][] = [[trees.roots[t]!, 0]];
    while (stack.length > 0) {
      const [node, depth] = stack.pop()!;
      if (!Number.isInteger(node) || node < 0 || node >= n) throw fail(`tree ${t} points at node ${node}, outside 0..${n - 1}`);
      if (seen[node]) throw fail(`node ${node} is reached twice (tree ${t}): not a tree`);
      seen[node] = 1;
      const f = trees.feature[node]!;
      if (f < 0) {
        if (!Number.isFinite(trees.leafValue[node]!)) throw fail(`leaf ${node} has the value ${trees.leafValue[node]}`);
        deepest = Math.max(deepest, depth);
        continue;
      }
      if (f >= trees.featureCount) throw fail(`node ${node} tests feature ${f}, but the model takes ${trees.featureCount}`);
      if (trees.mode[node]! >= TREE_NODE_MODES.length - 1) throw fail(`branch node ${node} has mode ${TREE_NODE_MODES[trees.mode[node]!] ?? trees.mode[node]}`);
      stack.push([trees.trueChild[node]!, depth + 1], [trees.falseChild[node]!, depth + 1]);
    }
  }
  return deepest;
}
