import { explainRows, playersOf, treeMargin, treeProbability } from '@churn/explain';
import { featureSchema } from '@churn/model-bundle';
import { rocAuc } from '@churn/monitoring';
import { OnnxScorer } from '@churn/onnx-runner';
import { fitGbdt } from './gbdt-trainer';
import { exportTreeEnsembleOnnx, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './onnx-export';
import { readTreeEnsemble } from './onnx-tree-reader';
import { SeededRandom } from './seeded-random';

/** A labelled matrix from a known non-linear process with missing values in feature 2 (missing means risk). */
function dataset(rows: number, seed: number) {
  const random = new SeededRandom(seed, 3);
  const width = 6;
  const x = new Float32Array(rows * width);
  const y = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < width; f++) x[r * width + f] = random.next() * 2 - 1;
    const missing = random.next() < 0.2;
    if (missing) x[r * width + 2] = Number.NaN;
    const z = 1.5 * x[r * width]! * x[r * width + 1]! + (missing ? 1 : x[r * width + 2]!) - 0.5 * (x[r * width + 3]! > 0.3 ? 1 : 0);
    y[r] = random.next() < 1 / (1 + Math.exp(-2 * z)) ? 1 : 0;
  }
  return { x, y, rows, features: width };
}

describe('fitGbdt', () => {
  const train = dataset(6000, 1);
  const test = dataset(3000, 2);
  const fit = fitGbdt(train, { seed: 3, trees: 60, depth: 4, learningRate: 0.2 });
  const margin = (r: number) => treeMargin(fit.trees, test.x, r * test.features);

  it('learns the process (held-out AUC well above chance), stops early on validation loss and sends missing values somewhere', () => {
    const scores = Float64Array.from({ length: test.rows }, (_, r) => treeProbability(fit.trees, margin(r)));
    expect(rocAuc(scores, test.y)).toBeGreaterThan(0.75);
    expect(fit.bestTrees).toBeLessThanOrEqual(fit.treesGrown);
    expect(fit.trees.roots.length).toBe(fit.bestTrees);
    expect(Math.min(...fit.validationLoss.slice(0, fit.bestTrees))).toBe(fit.validationLoss[fit.bestTrees - 1]);
    expect([...fit.trees.missingTrue].some((m) => m === 1)).toBe(true);
  });

  it('without early stopping, grows and keeps exactly the trees asked for', () => {
    const small = dataset(1500, 4);
    const stopped = fitGbdt(small, { seed: 3, trees: 40, depth: 3, learningRate: 0.5, patience: 2 });
    const fixed = fitGbdt(small, { seed: 3, trees: 40, depth: 3, learningRate: 0.5, patience: 2, earlyStopping: false });
    // A high learning rate on few rows overfits: early stopping keeps fewer trees.
    expect(stopped.trees.roots.length).toBeLessThan(40);
    expect(fixed.treesGrown).toBe(40);
    expect(fixed.trees.roots.length).toBe(40);
    expect(fixed.bestTrees).toBe(40);
  });

  it('ONNX Runtime scores the exported ensemble as the TypeScript model does, to 1e-6 (NaN inputs included)', async () => {
    const bytes = exportTreeEnsembleOnnx(fit.trees);
    const scorer = await OnnxScorer.create({ modelBytes: bytes, inputName: ONNX_INPUT_NAME, outputName: ONNX_OUTPUT_NAME, probabilityIndex: 0, outputKind: 'probability', featureCount: test.features, device: 'cpu' });
    const ort = await scorer.score(test.x, test.rows);
    await scorer.release();
    let worst = 0;
    for (let r = 0; r < test.rows; r++) worst = Math.max(worst, Math.abs(ort[r]! - treeProbability(fit.trees, margin(r))));
    expect(worst).toBeLessThan(1e-6);
  });

  it('TreeSHAP of the trained GBDT read back from its ONNX graph equals brute-force exact Shapley to 1e-6 (logit space)', async () => {
    const bytes = exportTreeEnsembleOnnx(fit.trees);
    const read = readTreeEnsemble(bytes, { name: ONNX_OUTPUT_NAME, probabilityIndex: 0, kind: 'probability' }, test.features);
    if (!('trees' in read)) throw new Error(read.unsupported);
    const trees = read.trees;
    const rows = 200;
    const features = test.x.subarray(0, rows * test.features);
    const evaluate = (m: Float32Array, n: number) => Promise.resolve(Float64Array.from({ length: n }, (_, r) => treeProbability(trees, treeMargin(trees, m, r * test.features))));
    const scores = await evaluate(features, rows);
    const spec = (id: string, group?: string) => featureSchema.parse({ id, transform: { kind: 'numeric', column: id }, ...(group ? { group } : {}) });
    const players = playersOf([spec('a'), spec('b', 'ab'), spec('c'), spec('d', 'ab'), spec('e'), spec('f')]);
    const baseline = Float32Array.of(0, 0, Number.NaN, 0, 0, 0);
    const input = { features, rows, scores, rowKeys: new Uint32Array(rows), players, baseline };
    const model = { featureCount: test.features, evaluate, trees };
    const tree = await explainRows(model, input, { method: 'tree', space: 'logit', permutations: 1, seed: 1 });
    const exact = await explainRows(model, input, { method: 'exact', space: 'logit', permutations: 1, seed: 1 });
    let worst = 0;
    let largest = 0;
    tree.contributions.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - exact.contributions[i]!));
      largest = Math.max(largest, Math.abs(v));
    });
    expect(worst).toBeLessThan(1e-6);
    expect(largest).toBeGreaterThan(0.1);
  });
});
