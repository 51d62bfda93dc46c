import type { TreeEnsemble } from '@churn/explain';
import type { LabelledMatrix } from './gradient-trainer';
import { SeededRandom } from './seeded-random';

/** Gradient-boosting settings; every field has a default. */
export interface GbdtOptions {
  seed: number;
  /** Most trees (default 100). */
  trees?: number;
  /** Depth of every tree (default 5). */
  depth?: number;
  /** Shrinkage of each tree's leaf values (default 0.1). */
  learningRate?: number;
  /** Histogram bins per feature, missing values apart (default 64, at most 255). */
  bins?: number;
  /** L2 penalty on leaf values (default 1). */
  l2?: number;
  /** Least hessian (about rows * p(1-p)) a leaf may hold (default 5). */
  minLeafHessian?: number;
  /** Stop after this many trees without a lower validation loss (default 10). */
  patience?: number;
  /**
   * false: grow exactly `trees` trees and keep them all, whatever the validation loss does (a
   * model of a fixed shape, as the benchmark needs). Default true: stop on `patience` and keep
   * the trees up to the lowest validation loss.
   */
  earlyStopping?: boolean;
  /** Fraction of the rows held back for early stopping (default 0.1). */
  validationFraction?: number;
  log?: (message: string) => void;
}

export interface GbdtResult {
  /** The ensemble with the lowest validation loss (link logistic, float32 thresholds and leaves). */
  trees: TreeEnsemble;
  treesGrown: number;
  bestTrees: number;
  validationLoss: number[];
  trainRows: number;
  validationRows: number;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Per feature: ascending float32 edges; bin k holds values in (edge[k-1], edge[k]], the last bin the rest. */
function binEdges(x: Float32Array, rows: Int32Array, width: number, f: number, bins: number, random: SeededRandom): Float64Array {
  const sample = Math.min(rows.length, 20_000);
  const values: number[] = [];
  for (let i = 0; i < sample; i++) {
    const v = x[rows[random.nextInt(rows.length)]! * width + f]!;
    if (!Number.isNaN(v)) values.push(v);
  }
  values.sort((a, b) => a - b);
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const v = values[Math.floor((k * values.length) / bins)];
    if (v !== undefined && (edges.length === 0 || v > edges[edges.length - 1]!)) edges.push(v);
  }
  // The largest value needs no edge: "above every edge" is the last bin.
  if (edges.length > 0 && edges[edges.length - 1] === values[values.length - 1]) edges.pop();
  return Float64Array.from(edges);
}

/**
 * Histogram gradient boosting of log loss (second-order, XGBoost-style gains) in TypeScript:
 * features binned once into at most `bins` quantile bins plus a missing bin; each tree grown
 * level by level to `depth` from per-node gradient/hessian histograms; a split `x <= edge`
 * sends missing values to the side with the larger gain (the node's missing direction). Stops
 * early when `patience` trees bring no lower loss on a validation part of the rows.
 */
export function fitGbdt(data: LabelledMatrix, options: GbdtOptions): GbdtResult {
  const { x, y, rows: total, features: width } = data;
  const maxTrees = options.trees ?? 100;
  const depth = options.depth ?? 5;
  const rate = options.learningRate ?? 0.1;
  const bins = Math.min(options.bins ?? 64, 255);
  const l2 = options.l2 ?? 1;
  const minHessian = options.minLeafHessian ?? 5;
  const earlyStopping = options.earlyStopping ?? true;
  const patience = earlyStopping ? (options.patience ?? 10) : Number.POSITIVE_INFINITY;
  const random = new SeededRandom(options.seed, 7);

  const order = Int32Array.from({ length: total }, (_, i) => i);
  for (let i = total - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const validationRows = Math.max(1, Math.floor(total * (options.validationFraction ?? 0.1)));
  const validation = order.subarray(0, validationRows);
  const train = Int32Array.from(order.subarray(validationRows)).sort();
  const n = train.length;

  // Bin codes of the training rows, feature-major; bin `missingBin` is NaN.
  const edges = Array.from({ length: width }, (_, f) => binEdges(x, train, width, f, bins, random));
  const slots = bins + 1;
  const missingBin = bins;
  const codes = new Uint8Array(n * width);
  for (let f = 0; f < width; f++) {
    const e = edges[f]!;
    for (let i = 0; i < n; i++) {
      const v = x[train[i]! * width + f]!;
      let code: number;
      if (Number.isNaN(v)) code = missingBin;
      else {
        let lo = 0;
        let hi = e.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (v <= e[mid]!) hi = mid;
          else lo = mid + 1;
        }
        code = lo;
      }
      codes[f * n + i] = code;
    }
  }

  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[train[i]!]!;
  const rateP = Math.min(Math.max(positives / n, 1e-6), 1 - 1e-6);
  const base = Math.fround(Math.log(rateP / (1 - rateP)));
  const margin = new Float64Array(n).fill(base);
  const validationMargin = new Float64Array(validationRows).fill(base);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const nodeOf = new Int32Array(n);

  // The ensemble, as growable arrays.
  const feature: number[] = [];
  const threshold: number[] = [];
  const missingTrue: number[] = [];
  const trueChild: number[] = [];
  const falseChild: number[] = [];
  const leafValue: number[] = [];
  const roots: number[] = [];
  const losses: number[] = [];
  let best = { loss: Number.POSITIVE_INFINITY, trees: 0, nodes: 0 };
  const slotOf = new Int32Array(maxTrees * (2 << depth) + 1).fill(-1);

  const addNode = (): number => {
    feature.push(-1);
    threshold.push(0);
    missingTrue.push(0);
    trueChild.push(-1);
    falseChild.push(-1);
    leafValue.push(0);
    return feature.length - 1;
  };

  const evaluate = (row: number, root: number): number => {
    let node = root;
    while (feature[node]! >= 0) {
      const v = x[row * width + feature[node]!]!;
      node = (Number.isNaN(v) ? missingTrue[node] === 1 : v <= threshold[node]!) ? trueChild[node]! : falseChild[node]!;
    }
    return leafValue[node]!;
  };

  for (let t = 0; t < maxTrees; t++) {
    for (let i = 0; i < n; i++) {
      const p = sigmoid(margin[i]!);
      grad[i] = p - y[train[i]!]!;
      hess[i] = Math.max(p * (1 - p), 1e-12);
    }
    const root = addNode();
    roots.push(root);
    // Level by level: the open nodes of this level, each with its rows' gradient sums.
    let open = [root];
    nodeOf.fill(root);
    for (let level = 0; level <= depth; level++) {
      // One pass over the rows builds every open node's gradient/hessian histograms.
      const m = open.length;
      open.forEach((node, k) => (slotOf[node] = k));
      const G = new Float64Array(m);
      const H = new Float64Array(m);
      const splittable = level < depth;
      const stride = width * slots * 2;
      const histogram = splittable ? new Float64Array(m * stride) : undefined;
      for (let i = 0; i < n; i++) {
        const k = slotOf[nodeOf[i]!]!;
        if (k < 0) continue;
        const g = grad[i]!;
        const h = hess[i]!;
        G[k] = G[k]! + g;
        H[k] = H[k]! + h;
        if (!histogram) continue;
        const h0 = k * stride;
        for (let f = 0, at = i; f < width; f++, at += n) {
          const b = h0 + (f * slots + codes[at]!) * 2;
          histogram[b] = histogram[b]! + g;
          histogram[b + 1] = histogram[b + 1]! + h;
        }
      }
      const next: number[] = [];
      const splits: ({ f: number; bin: number; missingLeft: boolean; left: number; right: number } | undefined)[] = [];
      for (let k = 0; k < m; k++) {
        const node = open[k]!;
        splits.push(undefined);
        if (!histogram || H[k]! < 2 * minHessian) {
          leafValue[node] = Math.fround((-G[k]! / (H[k]! + l2)) * rate);
          continue;
        }
        const parentScore = (G[k]! * G[k]!) / (H[k]! + l2);
        let bestGain = 1e-9;
        let split: { f: number; bin: number; missingLeft: boolean } | undefined;
        for (let f = 0; f < width; f++) {
          const h0 = k * stride + f * slots * 2;
          const gm = histogram[h0 + missingBin * 2]!;
          const hm = histogram[h0 + missingBin * 2 + 1]!;
          let gl = 0;
          let hl = 0;
          for (let b = 0; b < edges[f]!.length; b++) {
            gl += histogram[h0 + b * 2]!;
            hl += histogram[h0 + b * 2 + 1]!;
            for (let side = 0; side < 2; side++) {
              const missingLeft = side === 0;
              const GL = gl + (missingLeft ? gm : 0);
              const HL = hl + (missingLeft ? hm : 0);
              const GR = G[k]! - GL;
              const HR = H[k]! - HL;
              if (HL < minHessian || HR < minHessian) continue;
              const gain = (GL * GL) / (HL + l2) + (GR * GR) / (HR + l2) - parentScore;
              if (gain > bestGain) {
                bestGain = gain;
                split = { f, bin: b, missingLeft };
              }
            }
          }
        }
        if (!split) {
          leafValue[node] = Math.fround((-G[k]! / (H[k]! + l2)) * rate);
          continue;
        }
        const left = addNode();
        const right = addNode();
        feature[node] = split.f;
        threshold[node] = Math.fround(edges[split.f]![split.bin]!);
        missingTrue[node] = split.missingLeft ? 1 : 0;
        trueChild[node] = left;
        falseChild[node] = right;
        splits[k] = { ...split, left, right };
        next.push(left, right);
      }
      for (let i = 0; i < n; i++) {
        const k = slotOf[nodeOf[i]!]!;
        const split = k >= 0 ? splits[k] : undefined;
        if (!split) continue;
        const code = codes[split.f * n + i]!;
        nodeOf[i] = (code === missingBin ? split.missingLeft : code <= split.bin) ? split.left : split.right;
      }
      open.forEach((node) => (slotOf[node] = -1));
      open = next;
      if (open.length === 0) break;
    }
    for (let i = 0; i < n; i++) margin[i] = margin[i]! + leafValue[nodeOf[i]!]!;
    let loss = 0;
    for (let v = 0; v < validationRows; v++) {
      const row = validation[v]!;
      validationMargin[v] = validationMargin[v]! + evaluate(row, root);
      const p = Math.min(Math.max(sigmoid(validationMargin[v]!), 1e-12), 1 - 1e-12);
      loss -= y[row] ? Math.log(p) : Math.log(1 - p);
    }
    loss /= validationRows;
    losses.push(loss);
    if (loss < best.loss - 1e-7 || !earlyStopping) best = { loss, trees: t + 1, nodes: feature.length };
    options.log?.(`tree ${t + 1}: validation log loss ${loss.toFixed(5)}`);
    if (t + 1 - best.trees >= patience) break;
  }

  const count = best.nodes;
  const trees: TreeEnsemble = {
    featureCount: width,
    feature: Int32Array.from(feature.slice(0, count)),
    threshold: Float64Array.from(threshold.slice(0, count)),
    // Every split is `x <= edge` (BRANCH_LEQ).
    mode: Uint8Array.from(feature.slice(0, count), (f) => (f >= 0 ? 0 : 6)),
    missingTrue: Uint8Array.from(missingTrue.slice(0, count)),
    trueChild: Int32Array.from(trueChild.slice(0, count)),
    falseChild: Int32Array.from(falseChild.slice(0, count)),
    leafValue: Float64Array.from(leafValue.slice(0, count)),
    roots: Int32Array.from(roots.slice(0, best.trees)),
    base,
    link: 'logistic',
  };
  return { trees, treesGrown: losses.length, bestTrees: best.trees, validationLoss: losses, trainRows: n, validationRows };
}
