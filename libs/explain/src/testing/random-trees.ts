/**
 * Seeded random tree ensembles for the TreeSHAP specs: thresholds and feature values on one
 * coarse grid (so values equal to thresholds are common and BRANCH_LEQ differs from BRANCH_LT),
 * random missing-value directions, and NaN inputs.
 */
import type { TreeEnsemble, TreeLink } from '../tree-ensemble';
import { testRandom } from './test-models';

export interface RandomTreesOptions {
  trees: number;
  depth: number;
  featureCount: number;
  seed: number;
  /** Node modes drawn from (indices into TREE_NODE_MODES); default LEQ and LT. */
  modes?: readonly number[];
  /** Probability that a branch stops early at a leaf (default 0.15). */
  earlyLeaf?: number;
  link?: TreeLink;
  /** Leaf values are drawn from [-leafScale, leafScale] (default 0.4). */
  leafScale?: number;
  /** Draws a leaf value from the generator's uniform [0, 1) source, instead of leafScale. */
  leaf?: (random: () => number) => number;
}

/** Grid of feature values and thresholds. */
export const GRID = [-1, -0.5, 0, 0.5, 1] as const;

export function randomTrees(options: RandomTreesOptions): TreeEnsemble {
  const rnd = testRandom(options.seed);
  const modes = options.modes ?? [0, 1];
  const early = options.earlyLeaf ?? 0.15;
  const scale = options.leafScale ?? 0.4;
  const feature: number[] = [];
  const threshold: number[] = [];
  const mode: number[] = [];
  const missingTrue: number[] = [];
  const trueChild: number[] = [];
  const falseChild: number[] = [];
  const leafValue: number[] = [];
  const roots: number[] = [];
  const grow = (depth: number): number => {
    const node = feature.length;
    feature.push(-1);
    threshold.push(0);
    mode.push(6);
    missingTrue.push(0);
    trueChild.push(-1);
    falseChild.push(-1);
    leafValue.push(0);
    if (depth === 0 || (depth < options.depth && rnd() < early)) {
      leafValue[node] = options.leaf ? options.leaf(rnd) : (rnd() * 2 - 1) * scale;
      return node;
    }
    feature[node] = Math.floor(rnd() * options.featureCount);
    threshold[node] = GRID[Math.floor(rnd() * GRID.length)]! + (rnd() < 0.3 ? 0.25 : 0);
    mode[node] = modes[Math.floor(rnd() * modes.length)]!;
    missingTrue[node] = rnd() < 0.5 ? 1 : 0;
    const t = grow(depth - 1);
    const f = grow(depth - 1);
    trueChild[node] = t;
    falseChild[node] = f;
    return node;
  };
  for (let t = 0; t < options.trees; t++) roots.push(grow(options.depth));
  return {
    featureCount: options.featureCount,
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold, (v) => Math.fround(v)),
    mode: Uint8Array.from(mode),
    missingTrue: Uint8Array.from(missingTrue),
    trueChild: Int32Array.from(trueChild),
    falseChild: Int32Array.from(falseChild),
    leafValue: Float64Array.from(leafValue),
    roots: Int32Array.from(roots),
    base: (rnd() - 0.5) * 0.5,
    link: options.link ?? 'logistic',
  };
}

/** Rows of grid values with a share of NaN (missing) entries. */
export function gridRows(rows: number, width: number, seed: number, missing = 0.15): Float32Array {
  const rnd = testRandom(seed);
  return Float32Array.from({ length: rows * width }, () => (rnd() < missing ? Number.NaN : GRID[Math.floor(rnd() * GRID.length)]!));
}
