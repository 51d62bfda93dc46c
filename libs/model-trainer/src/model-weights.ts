/**
 * The two model shapes the trainer produces and their forward pass. Weights are float32, exactly
 * the values written into the ONNX initialisers, so the TypeScript forward pass and ONNX Runtime
 * compute the same function.
 */
import type { DenseNetwork } from '@churn/explain';

/**
 * One hidden ReLU layer and a sigmoid output: p = sigmoid(w2 . relu(W1 x + b1) + b2), with W1
 * row-major [hidden][inputs] (the layout of Gemm with transB=1) and float32 biases: the explain
 * lib's DenseNetwork, which it walks for exact Shapley values once read back from the graph.
 */
export interface MlpWeights extends DenseNetwork {
  kind: 'mlp';
}

/** Logistic regression: p = sigmoid(w . x + b). */
export interface LogisticWeights {
  kind: 'logistic';
  inputs: number;
  /** Coefficients, [inputs]. */
  w: Float32Array;
  /** Intercept (a float32 value). */
  b: number;
}

export type ModelWeights = MlpWeights | LogisticWeights;

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/**
 * P(churn) of `rows` rows of a row-major feature matrix (`weights.inputs` wide), computed in
 * float64 from the float32 weights. This is the reference the ONNX export is tested against.
 */
export function predictProbabilities(weights: ModelWeights, features: Float32Array, rows: number): Float32Array {
  const width = weights.inputs;
  if (features.length < rows * width) {
    throw new RangeError(`predictProbabilities: ${rows} rows of ${width} features need ${rows * width} values, got ${features.length}`);
  }
  const out = new Float32Array(rows);
  if (weights.kind === 'logistic') {
    const { w, b } = weights;
    for (let r = 0; r < rows; r++) {
      const offset = r * width;
      let z = b;
      for (let i = 0; i < width; i++) z += w[i]! * features[offset + i]!;
      out[r] = sigmoid(z);
    }
    return out;
  }
  const { hidden, w1, b1, w2, b2 } = weights;
  for (let r = 0; r < rows; r++) {
    const offset = r * width;
    let z = b2;
    for (let j = 0; j < hidden; j++) {
      let s = b1[j]!;
      const row = j * width;
      for (let i = 0; i < width; i++) s += w1[row + i]! * features[offset + i]!;
      if (s > 0) z += w2[j]! * s;
    }
    out[r] = sigmoid(z);
  }
  return out;
}
