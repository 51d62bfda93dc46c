/**
 * The explainer against real ONNX Runtime: small hand-built ONNX models (an MLP and a logistic
 * regression, fixed weights) scored by OnnxScorer. Exact Shapley matches a brute-force computation
 * written here (every player order, coalition values from the same session), linear matches the
 * closed form, and every method keeps efficiency.
 */
import { onnx } from 'onnx-proto';
import { explainRows, rowKey, type ExplainMethod, type ExplainResult, type ModelEvaluator, type Player } from '@churn/explain';
import { OnnxScorer } from '@churn/onnx-runner';

const F = 5;

function f32(name: string, dims: number[], values: number[]): onnx.ITensorProto {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) });
}

function valueInfo(name: string, width: number): onnx.IValueInfoProto {
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch' }, { dimValue: width }] } } } });
}

function gemm(inputs: string[], output: string): onnx.INodeProto {
  return onnx.NodeProto.create({ opType: 'Gemm', input: inputs, output: [output], attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] });
}

function encode(graph: onnx.IGraphProto): Uint8Array {
  return new Uint8Array(onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph })).finish());
}

// 5 -> 4 (Relu) -> 1 (Sigmoid); W1 stored [out][in].
const W1 = [
  [0.9, -0.6, 0.4, 0.0, 1.1],
  [-0.5, 0.8, 0.7, -0.9, 0.2],
  [0.3, 0.3, -1.2, 0.6, -0.4],
  [1.0, -0.2, 0.5, 0.8, 0.6],
];
const B1 = [0.1, -0.2, 0.3, 0.05];
const W2 = [1.3, -1.1, 0.9, 0.7];
const B2 = -0.8;

function mlpOnnx(): Uint8Array {
  return encode({
    name: 'explain_mlp',
    input: [valueInfo('features', F)],
    output: [valueInfo('churn_probability', 1)],
    initializer: [f32('w1', [4, F], W1.flat()), f32('b1', [4], B1), f32('w2', [1, 4], W2), f32('b2', [1], [B2])],
    node: [
      gemm(['features', 'w1', 'b1'], 'hidden'),
      onnx.NodeProto.create({ opType: 'Relu', input: ['hidden'], output: ['relu'] }),
      gemm(['relu', 'w2', 'b2'], 'logit'),
      onnx.NodeProto.create({ opType: 'Sigmoid', input: ['logit'], output: ['churn_probability'] }),
    ],
  });
}

const LOGISTIC_W = [0.8, -1.3, 0.45, 0, 1.7];
const LOGISTIC_B = -0.6;

function logisticOnnx(): Uint8Array {
  return encode({
    name: 'explain_logistic',
    input: [valueInfo('features', F)],
    output: [valueInfo('churn_probability', 1)],
    initializer: [f32('w', [1, F], LOGISTIC_W), f32('b', [1], [LOGISTIC_B])],
    node: [gemm(['features', 'w', 'b'], 'logit'), onnx.NodeProto.create({ opType: 'Sigmoid', input: ['logit'], output: ['churn_probability'] })],
  });
}

async function scorerFor(modelBytes: Uint8Array): Promise<OnnxScorer> {
  return OnnxScorer.create({ modelBytes, inputName: 'features', outputName: 'churn_probability', probabilityIndex: 0, outputKind: 'probability', featureCount: F, device: 'cpu' });
}

const evaluatorOf = (scorer: OnnxScorer): ModelEvaluator => ({ featureCount: F, evaluate: (matrix, rows) => scorer.score(matrix, rows) });

const ROWS = 60;
/** Deterministic rows in [-2, 2] (a sine sequence, not the explainer's PRNG). */
const features = Float32Array.from({ length: ROWS * F }, (_, i) => 2 * Math.sin(1.7 * i + 0.3));
const baseline = Float32Array.from([0.1, -0.2, 0.3, 0, -0.1]);
const rowKeys = Uint32Array.from({ length: ROWS }, (_, i) => rowKey(`C${String(i).padStart(6, '0')}`));
// Features 1 and 3 play together, like a one-hot group.
const players: Player[] = [
  { id: 'a', features: [0], actionable: true },
  { id: 'pair', features: [1, 3], actionable: false },
  { id: 'c', features: [2], actionable: true },
  { id: 'd', features: [4], actionable: true },
];
const clampedLogit = (p: number) => {
  const q = Math.min(Math.max(p, 1e-7), 1 - 1e-7);
  return Math.log(q / (1 - q));
};

/**
 * Brute-force Shapley values of every row: the values of all 2^P coalitions from the session (one
 * batch), then each player's marginal averaged over all P! orders.
 */
async function bruteForce(scorer: OnnxScorer, transform: (p: number) => number): Promise<{ base: number; phi: number[][] }> {
  const P = players.length;
  const coalitions = 1 << P;
  const matrix = new Float32Array(ROWS * coalitions * F);
  for (let r = 0; r < ROWS; r++) {
    for (let mask = 0; mask < coalitions; mask++) {
      const at = (r * coalitions + mask) * F;
      matrix.set(baseline, at);
      players.forEach((player, p) => {
        if (mask & (1 << p)) for (const f of player.features) matrix[at + f] = features[r * F + f]!;
      });
    }
  }
  const values = Array.from(await scorer.score(matrix, ROWS * coalitions), transform);
  const orders: number[][] = [];
  const permute = (prefix: number[], rest: number[]): void => {
    if (rest.length === 0) orders.push(prefix);
    rest.forEach((p, i) => permute([...prefix, p], [...rest.slice(0, i), ...rest.slice(i + 1)]));
  };
  permute([], [0, 1, 2, 3]);
  const phi = Array.from({ length: ROWS }, (_, r) => {
    const out = new Array<number>(P).fill(0);
    for (const order of orders) {
      let mask = 0;
      for (const p of order) {
        out[p]! += values[r * coalitions + (mask | (1 << p))]! - values[r * coalitions + mask]!;
        mask |= 1 << p;
      }
    }
    return out.map((v) => v / orders.length);
  });
  return { base: values[0]!, phi };
}

function efficiencyGap(result: ExplainResult, scores: Float32Array, space: 'probability' | 'logit'): number {
  let worst = 0;
  for (let r = 0; r < ROWS; r++) {
    let sum = result.baseValue;
    for (let p = 0; p < players.length; p++) sum += result.contributions[r * players.length + p]!;
    worst = Math.max(worst, Math.abs(sum - (space === 'logit' ? clampedLogit(scores[r]!) : scores[r]!)));
  }
  return worst;
}

describe('explanations of ONNX models', () => {
  let mlp: OnnxScorer;
  let logistic: OnnxScorer;
  let mlpScores: Float32Array;
  let logisticScores: Float32Array;

  beforeAll(async () => {
    mlp = await scorerFor(mlpOnnx());
    logistic = await scorerFor(logisticOnnx());
    mlpScores = await mlp.score(features, ROWS);
    logisticScores = await logistic.score(features, ROWS);
  });

  afterAll(async () => {
    await mlp.release();
    await logistic.release();
  });

  const explain = (scorer: OnnxScorer, scores: Float32Array, method: ExplainMethod, space: 'probability' | 'logit', permutations = 8) =>
    explainRows(evaluatorOf(scorer), { features, rows: ROWS, scores, rowKeys, players, baseline }, { method, space, permutations, seed: 5, minBatchEvaluations: 256 });

  it('the hand-built MLP scores like the same network in JS', async () => {
    for (let r = 0; r < ROWS; r++) {
      let z = B2;
      W1.forEach((w, h) => {
        const a = w.reduce((s, v, i) => s + v * features[r * F + i]!, B1[h]!);
        z += W2[h]! * Math.max(0, a);
      });
      expect(mlpScores[r]).toBeCloseTo(1 / (1 + Math.exp(-z)), 5);
    }
  });

  for (const space of ['probability', 'logit'] as const) {
    it(`exact equals brute-force Shapley over the ONNX MLP (${space}, one player a group of two features)`, async () => {
      const transform = space === 'logit' ? clampedLogit : (p: number) => p;
      const expected = await bruteForce(mlp, transform);
      const result = await explain(mlp, mlpScores, 'exact', space);
      expect(result.baseValue).toBeCloseTo(expected.base, 5);
      expected.phi.forEach((row, r) => row.forEach((v, p) => expect(result.contributions[r * players.length + p]).toBeCloseTo(v, 4)));
    });
  }

  it('linear equals the closed form w.(x - b) on the logistic ONNX model, in both spaces', async () => {
    const logitResult = await explain(logistic, logisticScores, 'linear', 'logit');
    const probResult = await explain(logistic, logisticScores, 'linear', 'probability');
    expect(logitResult.evaluations).toBe(F + 1);
    expect(logitResult.linearResidual).toBeLessThan(1e-3);
    const fb = 1 / (1 + Math.exp(-LOGISTIC_W.reduce((s, w, f) => s + w * baseline[f]!, LOGISTIC_B)));
    for (let r = 0; r < ROWS; r++) {
      const closed = players.map((player) => player.features.reduce((s, f) => s + LOGISTIC_W[f]! * (features[r * F + f]! - baseline[f]!), 0));
      const fx = logisticScores[r]!;
      const slope = (fx - fb) / (clampedLogit(fx) - clampedLogit(fb));
      closed.forEach((v, p) => {
        expect(logitResult.contributions[r * players.length + p]).toBeCloseTo(v, 3);
        expect(probResult.contributions[r * players.length + p]).toBeCloseTo(v * slope, 4);
      });
    }
  });

  for (const method of ['sampling', 'exact', 'linear'] as const) {
    for (const space of ['probability', 'logit'] as const) {
      it(`${method} keeps efficiency on the ONNX MLP (${space}): base + sum = ${space === 'logit' ? 'logit(score)' : 'score'} within 1e-4`, async () => {
        const result = await explain(mlp, mlpScores, method, space);
        expect(efficiencyGap(result, mlpScores, space)).toBeLessThan(1e-4);
      });
    }
  }

  it('sampling is deterministic for a seed through ONNX Runtime, whatever the batch size', async () => {
    const a = await explain(mlp, mlpScores, 'sampling', 'probability');
    const b = await explainRows(
      evaluatorOf(mlp),
      { features, rows: ROWS, scores: mlpScores, rowKeys, players, baseline },
      { method: 'sampling', space: 'probability', permutations: 8, seed: 5, minBatchEvaluations: 65_536 },
    );
    let worst = 0;
    for (let k = 0; k < a.contributions.length; k++) worst = Math.max(worst, Math.abs(a.contributions[k]! - b.contributions[k]!));
    // Same permutations; ONNX Runtime may round a row differently in a differently sized batch.
    expect(worst).toBeLessThan(1e-6);
  });
});
