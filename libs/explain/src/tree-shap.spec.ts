import { ChurnError } from '@churn/errors';
import { explainRows } from './explain-rows';
import type { ExplainMethod, ModelEvaluator } from './explain-types';
import { resolveExplanationMethod } from './method-registry';
import { logit } from './output-space';
import type { Player } from './players';
import { keysFor } from './testing/explain-case';
import { gridRows, randomTrees } from './testing/random-trees';
import { bruteForceShapley, evaluatorOf, singletonPlayers } from './testing/test-models';
import { treeMargin, treeProbability, type TreeEnsemble } from './tree-ensemble';

/** The ensemble as a ModelEvaluator returning float64 probabilities (so logit space is exact for the oracle too). */
function treeEvaluator(trees: TreeEnsemble, withTrees = true): ModelEvaluator & { evaluations: number } {
  const evaluator = {
    featureCount: trees.featureCount,
    evaluations: 0,
    evaluate(matrix: Float32Array, rows: number) {
      evaluator.evaluations += rows;
      const out = new Float64Array(rows);
      for (let r = 0; r < rows; r++) out[r] = treeProbability(trees, treeMargin(trees, matrix, r * trees.featureCount));
      return Promise.resolve(out);
    },
    ...(withTrees ? { trees } : {}),
  };
  return evaluator;
}

function scoresOf(trees: TreeEnsemble, features: Float32Array, rows: number): Float64Array {
  return Float64Array.from({ length: rows }, (_, r) => treeProbability(trees, treeMargin(trees, features, r * trees.featureCount)));
}

const GROUPED: Player[] = [
  { id: 'a', features: [0], actionable: true },
  { id: 'plan', features: [1, 4, 7], actionable: false },
  { id: 'b', features: [2], actionable: true },
  { id: 'c', features: [3, 5], actionable: true },
  { id: 'd', features: [6], actionable: true },
  { id: 'e', features: [8], actionable: true },
  { id: 'f', features: [9], actionable: true },
];

async function explainBoth(trees: TreeEnsemble, players: Player[], rows: number, seed: number, space: 'logit' | 'probability', baselineMissing = true) {
  const width = trees.featureCount;
  const features = gridRows(rows, width, seed);
  const baseline = gridRows(1, width, seed + 1, 0);
  if (baselineMissing) baseline[width - 1] = Number.NaN;
  const scores = scoresOf(trees, features, rows);
  const input = { features, rows, scores, rowKeys: keysFor(rows), players, baseline };
  const explain = (method: ExplainMethod) => explainRows(treeEvaluator(trees), input, { method, space, permutations: 1, seed: 1 });
  return { tree: await explain('tree'), exact: await explain('exact'), input };
}

function maxGap(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('TreeSHAP equals brute-force exact Shapley (logit space, 1e-6)', () => {
  for (let depth = 1; depth <= 8; depth++) {
    it(`depth ${depth}: 12 trees, 10 features in 7 players (groups), BRANCH_LEQ and BRANCH_LT, missing values in rows and baseline`, async () => {
      const trees = randomTrees({ trees: 12, depth, featureCount: 10, seed: 100 + depth });
      const { tree, exact } = await explainBoth(trees, GROUPED, 40, depth, 'logit');
      expect(tree.method).toBe('tree');
      expect(exact.method).toBe('exact');
      // Contributions are float32 in the result; compare to 1e-6 on values of order 1.
      expect(maxGap(tree.contributions, exact.contributions)).toBeLessThan(1e-6);
      expect(tree.baseValue).toBeCloseTo(exact.baseValue, 9);
      expect(tree.evaluations).toBe(1);
    });
  }

  it('every split mode (LEQ, LT, GTE, GT, EQ, NEQ), singleton players, ungrouped', async () => {
    const trees = randomTrees({ trees: 20, depth: 5, featureCount: 8, seed: 9, modes: [0, 1, 2, 3, 4, 5] });
    const { tree, exact } = await explainBoth(trees, singletonPlayers(8), 60, 3, 'logit');
    expect(maxGap(tree.contributions, exact.contributions)).toBeLessThan(1e-6);
  });

  it('matches the independent permutation oracle on a small model (6 players), identity link (random-forest probabilities)', async () => {
    const trees = randomTrees({ trees: 8, depth: 4, featureCount: 6, seed: 5, link: 'identity', leafScale: 0.05 });
    const trees2 = { ...trees, base: 0.5 };
    const features = gridRows(10, 6, 4);
    const baseline = gridRows(1, 6, 8, 0);
    const players = singletonPlayers(6);
    const result = await explainRows(treeEvaluator(trees2), { features, rows: 10, scores: scoresOf(trees2, features, 10), rowKeys: keysFor(10), players, baseline }, { method: 'tree', space: 'probability', permutations: 1, seed: 1 });
    for (let r = 0; r < 10; r++) {
      const model = (row: Float32Array) => treeProbability(trees2, treeMargin(trees2, row, 0));
      const expected = bruteForceShapley(model, features.subarray(r * 6, r * 6 + 6), baseline, players);
      expected.forEach((v, p) => expect(Math.abs(result.contributions[r * 6 + p]! - v)).toBeLessThan(1e-6));
    }
  });

  it('a row equal to the baseline gets exactly zero everywhere', async () => {
    const trees = randomTrees({ trees: 5, depth: 3, featureCount: 4, seed: 2 });
    const baseline = Float32Array.of(0, 0.5, Number.NaN, 1);
    const result = await explainRows(treeEvaluator(trees), { features: baseline.slice(), rows: 1, scores: scoresOf(trees, baseline, 1), rowKeys: keysFor(1), players: singletonPlayers(4), baseline }, { method: 'tree', space: 'logit', permutations: 1, seed: 1 });
    expect([...result.contributions]).toEqual([0, 0, 0, 0]);
  });
});

describe('TreeSHAP: additivity and spaces', () => {
  it('base + sum = logit(score) and = score within 1e-5 with float32 scores (as ONNX Runtime returns them)', async () => {
    const trees = randomTrees({ trees: 100, depth: 5, featureCount: 12, seed: 77 });
    const rows = 300;
    const features = gridRows(rows, 12, 6);
    const baseline = gridRows(1, 12, 7, 0);
    const scores = Float32Array.from(scoresOf(trees, features, rows));
    const players = singletonPlayers(12);
    for (const space of ['logit', 'probability'] as const) {
      const result = await explainRows(treeEvaluator(trees), { features, rows, scores, rowKeys: keysFor(rows), players, baseline }, { method: 'auto', space, permutations: 1, seed: 1 });
      expect(result.method).toBe('tree');
      for (let r = 0; r < rows; r++) {
        let sum = result.baseValue;
        for (let p = 0; p < 12; p++) sum += result.contributions[r * 12 + p]!;
        expect(Math.abs(sum - (space === 'logit' ? logit(scores[r]!) : scores[r]!))).toBeLessThan(1e-5);
      }
      expect(result.treeResidual).toBeLessThan(1e-4);
    }
  });

  it('probability-space contributions are the logit ones times the secant slope of the sigmoid', async () => {
    const trees = randomTrees({ trees: 10, depth: 4, featureCount: 10, seed: 31 });
    const { tree: inLogit, input } = await explainBoth(trees, GROUPED, 20, 2, 'logit');
    const { tree: inProb } = await explainBoth(trees, GROUPED, 20, 2, 'probability');
    const fb = 1 / (1 + Math.exp(-inLogit.baseValue));
    expect(inProb.baseValue).toBeCloseTo(fb, 9);
    for (let r = 0; r < 20; r++) {
      const fx = input.scores[r]!;
      const slope = Math.abs(logit(fx) - inLogit.baseValue) > 1e-9 ? (fx - fb) / (logit(fx) - inLogit.baseValue) : fb * (1 - fb);
      for (let p = 0; p < GROUPED.length; p++) expect(inProb.contributions[r * GROUPED.length + p]).toBeCloseTo(inLogit.contributions[r * GROUPED.length + p]! * slope, 6);
    }
  });

  it('a background sample averages the explanations against each of its rows', async () => {
    const trees = randomTrees({ trees: 10, depth: 4, featureCount: 6, seed: 41 });
    const features = gridRows(15, 6, 3);
    const scores = scoresOf(trees, features, 15);
    const background = gridRows(3, 6, 9, 0.2);
    const players = singletonPlayers(6);
    const run = (baseline: Float32Array) => explainRows(treeEvaluator(trees), { features, rows: 15, scores, rowKeys: keysFor(15), players, baseline }, { method: 'tree', space: 'logit', permutations: 1, seed: 1 });
    const all = await run(background);
    const singles = await Promise.all([0, 1, 2].map((k) => run(background.slice(k * 6, (k + 1) * 6))));
    expect(all.baseValue).toBeCloseTo(singles.reduce((s, r) => s + r.baseValue, 0) / 3, 9);
    all.contributions.forEach((v, i) => expect(v).toBeCloseTo(singles.reduce((s, r) => s + r.contributions[i]!, 0) / 3, 6));
  });

  it('refuses trees that do not reproduce the model (MODEL_MISMATCH) instead of writing wrong reasons', async () => {
    const trees = randomTrees({ trees: 10, depth: 3, featureCount: 4, seed: 3 });
    const other = randomTrees({ trees: 10, depth: 3, featureCount: 4, seed: 4 });
    const features = gridRows(20, 4, 1, 0);
    const evaluator = { ...treeEvaluator(other, false), trees };
    const error = await explainRows(evaluator, { features, rows: 20, scores: scoresOf(other, features, 20), rowKeys: keysFor(20), players: singletonPlayers(4), baseline: new Float32Array(4) }, { method: 'tree', space: 'logit', permutations: 1, seed: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChurnError);
    expect((error as ChurnError).code).toBe('MODEL_MISMATCH');
  });
});

describe('explanation method registry', () => {
  const trees = randomTrees({ trees: 2, depth: 2, featureCount: 3, seed: 1 });
  const plain = evaluatorOf(() => 0.5, 3);
  it('auto picks tree for a tree ensemble and sampling for any other model', () => {
    expect(resolveExplanationMethod('auto', treeEvaluator(trees)).name).toBe('tree');
    expect(resolveExplanationMethod('auto', plain).name).toBe('sampling');
    expect(resolveExplanationMethod('exact', treeEvaluator(trees)).name).toBe('exact');
  });
  it('refuses the tree method for a model that is not a tree ensemble, naming the setting and the methods that would work', () => {
    let error: unknown;
    try {
      resolveExplanationMethod('tree', plain);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ChurnError);
    expect((error as ChurnError).settings).toEqual(['explainMethod']);
    expect((error as ChurnError).message).toMatch(/tree-ensemble model.*use auto or one of sampling, exact, linear/);
  });
});
