import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { OnnxScorer } from '@churn/onnx-runner';
import type { MlpWeights } from './model-weights';
import { exportLogisticOnnx, exportMlpOnnx, exportTreeEnsembleOnnx, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './onnx-export';
import { readDenseNetwork } from './onnx-network-reader';
import { SeededRandom } from './seeded-random';

const OUTPUT = { name: ONNX_OUTPUT_NAME, probabilityIndex: 0, kind: 'probability' as const };

function mlp(seed: number, inputs: number, hidden: number): MlpWeights {
  const random = new SeededRandom(seed);
  const values = (n: number) => Float32Array.from({ length: n }, () => random.normal() * 0.4);
  return { kind: 'mlp', inputs, hidden, w1: values(hidden * inputs), b1: values(hidden), w2: values(hidden), b2: Math.fround(-0.8) };
}

describe('readDenseNetwork', () => {
  it('reads the weights of an exported MLP exactly', () => {
    const weights = mlp(3, 5, 7);
    const read = readDenseNetwork(exportMlpOnnx(weights), OUTPUT, 5);
    expect(read).toEqual({ network: { inputs: 5, hidden: 7, w1: weights.w1, b1: weights.b1, w2: weights.w2, b2: weights.b2 } });
  });

  it("reads the committed bundle's model, whose forward pass then matches ONNX Runtime", async () => {
    const bytes = new Uint8Array(readFileSync(path.resolve(__dirname, '..', '..', '..', 'models', 'churn-mlp', 'model.onnx')));
    const read = readDenseNetwork(bytes, OUTPUT, 21);
    if (!('network' in read)) throw new Error(read.unsupported);
    const { network } = read;
    expect([network.inputs, network.hidden]).toEqual([21, 48]);
    const random = new SeededRandom(9);
    const rows = 64;
    const features = Float32Array.from({ length: rows * 21 }, () => random.normal());
    const scorer = await OnnxScorer.create({ modelBytes: bytes, inputName: ONNX_INPUT_NAME, outputName: ONNX_OUTPUT_NAME, probabilityIndex: 0, outputKind: 'probability', featureCount: 21, device: 'cpu' });
    try {
      const scores = await scorer.score(features, rows);
      for (let r = 0; r < rows; r++) {
        let z = network.b2;
        for (let j = 0; j < network.hidden; j++) {
          let a = network.b1[j]!;
          for (let f = 0; f < 21; f++) a += network.w1[j * 21 + f]! * features[r * 21 + f]!;
          z += network.w2[j]! * Math.max(a, 0);
        }
        expect(Math.abs(1 / (1 + Math.exp(-z)) - scores[r]!)).toBeLessThan(1e-6);
      }
    } finally {
      await scorer.release();
    }
  });

  it('says why other graphs are not one: logistic regression, trees, the wrong width or output', () => {
    const logistic = exportLogisticOnnx({ kind: 'logistic', inputs: 3, w: Float32Array.of(1, 2, 3), b: 0 });
    expect(readDenseNetwork(logistic, OUTPUT, 3)).toEqual({ unsupported: 'the output layer is not fed by a Relu' });
    const stump = {
      featureCount: 2,
      feature: Int32Array.of(0, -1, -1),
      threshold: Float64Array.of(0.5, 0, 0),
      mode: Uint8Array.of(0, 0, 0),
      missingTrue: Uint8Array.of(0, 0, 0),
      trueChild: Int32Array.of(1, -1, -1),
      falseChild: Int32Array.of(2, -1, -1),
      leafValue: Float64Array.of(0, 0.3, -0.2),
      roots: Int32Array.of(0),
      base: 0,
      link: 'logistic' as const,
    };
    const trees = exportTreeEnsembleOnnx(stump);
    expect(readDenseNetwork(trees, OUTPUT, 2)).toHaveProperty('unsupported');
    const bytes = exportMlpOnnx(mlp(4, 5, 7));
    expect(readDenseNetwork(bytes, OUTPUT, 6)).toEqual({ unsupported: "the hidden layer's weights are [7, 5], not [hidden, 6]" });
    expect(readDenseNetwork(bytes, { ...OUTPUT, kind: 'logit' }, 5)).toEqual({ unsupported: 'the logit is not produced by a Gemm with transB' });
    expect(readDenseNetwork(Uint8Array.of(1, 2, 3), OUTPUT, 5)).toHaveProperty('unsupported', expect.stringMatching(/does not decode as ONNX/));
  });
});
