import { treeMargin, treeProbability, type TreeEnsemble, type TreeLink } from '@churn/explain';
import { gridRows, randomTrees as generateTrees } from '@churn/explain/testing';
import { OnnxScorer } from '@churn/onnx-runner';
import { exportMlpOnnx, exportTreeEnsembleOnnx, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, type TreeExportOptions } from './onnx-export';
import { readTreeEnsemble } from './onnx-tree-reader';

/** Random trees on a coarse grid (thresholds equal to inputs are common), every node mode, random missing directions. */
function randomTrees(seed: number, trees: number, depth: number, featureCount: number, link: TreeLink, leaf: (random: () => number) => number): TreeEnsemble {
  return generateTrees({ seed, trees, depth, featureCount, link, leaf, modes: [0, 1, 2, 3, 4, 5] });
}

async function scoreWithOrt(bytes: Uint8Array, outputName: string, probabilityIndex: number, features: Float32Array, rows: number, width: number): Promise<Float32Array> {
  const scorer = await OnnxScorer.create({ modelBytes: bytes, inputName: ONNX_INPUT_NAME, outputName, probabilityIndex, outputKind: 'probability', featureCount: width, device: 'cpu' });
  try {
    return await scorer.score(features, rows);
  } finally {
    await scorer.release();
  }
}

describe('readTreeEnsemble: ONNX Runtime scores what the reader reads (1e-6)', () => {
  const width = 6;
  const rows = 400;
  const features = gridRows(rows, width, 11);
  const cases: { name: string; trees: TreeEnsemble; export: TreeExportOptions; output: string; columns: number[] }[] = [
    { name: 'TreeEnsembleRegressor + Sigmoid (churn train --kind gbdt)', trees: randomTrees(1, 30, 5, width, 'logistic', (r) => r() - 0.5), export: {}, output: ONNX_OUTPUT_NAME, columns: [0] },
    { name: 'binary TreeEnsembleClassifier, LOGISTIC, one class id (XGBoost / LightGBM / sklearn GBDT converters)', trees: randomTrees(2, 30, 4, width, 'logistic', (r) => r() - 0.5), export: { shape: 'classifier' }, output: 'probabilities', columns: [1, 0] },
    { name: 'binary TreeEnsembleClassifier, NONE, probabilities (random forest)', trees: randomTrees(3, 10, 3, width, 'identity', (r) => r() * 0.07), export: { shape: 'classifier' }, output: 'probabilities', columns: [1, 0] },
    { name: 'binary TreeEnsembleClassifier, LOGISTIC, every weight positive', trees: randomTrees(5, 10, 3, width, 'logistic', (r) => r() * 0.05), export: { shape: 'classifier' }, output: 'probabilities', columns: [1] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const bytes = exportTreeEnsembleOnnx(c.trees, c.export);
      for (const column of c.columns) {
        const read = readTreeEnsemble(bytes, { name: c.output, probabilityIndex: column, kind: 'probability' }, width);
        if (!('trees' in read)) throw new Error(read.unsupported);
        const ort = await scoreWithOrt(bytes, c.output, column, features, rows, width);
        let worst = 0;
        for (let r = 0; r < rows; r++) worst = Math.max(worst, Math.abs(ort[r]! - treeProbability(read.trees, treeMargin(read.trees, features, r * width))));
        expect(worst).toBeLessThan(1e-6);
        // The scores are not constant: the comparison has something to compare.
        expect(Math.max(...ort) - Math.min(...ort)).toBeGreaterThan(0.01);
      }
    });
  }

  it('says why a graph is not a readable tree ensemble (an MLP, the label output)', () => {
    const mlp = exportMlpOnnx({ kind: 'mlp', inputs: 2, hidden: 2, w1: new Float32Array(4), b1: new Float32Array(2), w2: new Float32Array(2), b2: 0 });
    expect(readTreeEnsemble(mlp, { name: ONNX_OUTPUT_NAME, probabilityIndex: 0, kind: 'probability' }, 2)).toEqual({ unsupported: expect.stringContaining('not a TreeEnsembleRegressor') });
    const classifier = exportTreeEnsembleOnnx(randomTrees(6, 2, 2, 3, 'logistic', () => 0.1), { shape: 'classifier' });
    expect(readTreeEnsemble(classifier, { name: 'label', probabilityIndex: 0, kind: 'probability' }, 3)).toEqual({ unsupported: expect.stringContaining('label') });
  });
});
