import { OnnxScorer, inspectModel } from '@churn/onnx-runner';
import { onnx } from 'onnx-proto';
import type { LogisticWeights, MlpWeights, ModelWeights } from './model-weights';
import { predictProbabilities } from './model-weights';
import { exportLogisticOnnx, exportMlpOnnx } from './onnx-export';
import { SeededRandom } from './seeded-random';

const FEATURES = 21;
const HIDDEN = 48;
const ROWS = 2000;

function randomArray(random: SeededRandom, length: number, std: number): Float32Array {
  return Float32Array.from({ length }, () => random.normal() * std);
}

function randomMlp(seed: number): MlpWeights {
  const random = new SeededRandom(seed);
  return {
    kind: 'mlp',
    inputs: FEATURES,
    hidden: HIDDEN,
    w1: randomArray(random, HIDDEN * FEATURES, 0.3),
    b1: randomArray(random, HIDDEN, 0.1),
    w2: randomArray(random, HIDDEN, 0.3),
    b2: Math.fround(-1.7),
  };
}

function randomLogistic(seed: number): LogisticWeights {
  const random = new SeededRandom(seed);
  return { kind: 'logistic', inputs: FEATURES, w: randomArray(random, FEATURES, 0.5), b: Math.fround(-2.1) };
}

async function onnxScores(modelBytes: Uint8Array, features: Float32Array, rows: number): Promise<Float32Array> {
  // Small batches so the symbolic batch dimension is exercised with more than one size.
  const scorer = await OnnxScorer.create({
    modelBytes,
    inputName: 'features',
    outputName: 'churn_probability',
    probabilityIndex: 0,
    outputKind: 'probability',
    featureCount: FEATURES,
    device: 'cpu',
    batchRows: 777,
  });
  try {
    return await scorer.score(features, rows);
  } finally {
    await scorer.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe.each<[string, () => ModelWeights, (w: ModelWeights) => Uint8Array]>([
  ['MLP', () => randomMlp(11), (w) => exportMlpOnnx(w as MlpWeights, { featureIds: Array.from({ length: FEATURES }, (_, i) => `f${i}`) })],
  ['logistic', () => randomLogistic(12), (w) => exportLogisticOnnx(w as LogisticWeights)],
])('%s ONNX export', (_name, makeWeights, exportModel) => {
  const weights = makeWeights();
  const bytes = exportModel(weights);

  it('reproduces the TypeScript forward pass through ONNX Runtime', async () => {
    const x = randomArray(new SeededRandom(99), ROWS * FEATURES, 1.5);
    const expected = predictProbabilities(weights, x, ROWS);
    const actual = await onnxScores(bytes, x, ROWS);
    expect(actual).toHaveLength(ROWS);
    expect(maxAbsDiff(actual, expected)).toBeLessThan(1e-5);
    // The random model is not degenerate: probabilities actually vary.
    expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(0.3);
  });

  it('declares features [batch, F] float32 in and churn_probability [batch, 1] out', async () => {
    const signature = await inspectModel(bytes);
    expect(signature.inputs).toEqual([{ name: 'features', elementType: 'float32', shape: ['batch', FEATURES] }]);
    expect(signature.outputs).toEqual([{ name: 'churn_probability', elementType: 'float32', shape: ['batch', 1] }]);
  });

  it('is ONNX IR 8, opset 17, and byte-identical for the same weights', () => {
    const model = onnx.ModelProto.decode(bytes);
    expect(Number(model.irVersion)).toBe(8);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    expect(Buffer.from(exportModel(weights)).equals(Buffer.from(bytes))).toBe(true);
  });
});

describe('export checks', () => {
  it('refuses weights whose sizes do not match the declared shape', () => {
    const broken = { ...randomMlp(1), hidden: HIDDEN + 1 };
    expect(() => exportMlpOnnx(broken)).toThrow(/w1 has/);
  });
});
