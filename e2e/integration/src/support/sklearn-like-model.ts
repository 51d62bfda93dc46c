import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { REPO_ROOT } from './churn-cli';

/** A scikit-learn-shaped logistic model: input "features" [N,4] -> "probabilities" [N,2]. */
export function sklearnLikeOnnx(weights: number[], bias: number): Uint8Array {
  const f32 = (name: string, dims: number[], values: number[]) =>
    onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) });
  const valueInfo = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
  // logits for [not churn, churn] = x @ W + b with W = [-w | w] / 2, so softmax's column 1 = sigmoid(w.x + b).
  const w = weights.flatMap((v) => [-v / 2, v / 2]);
  const graph = onnx.GraphProto.create({
    name: 'sklearn_like',
    initializer: [f32('W', [weights.length, 2], w), f32('B', [2], [-bias / 2, bias / 2])],
    node: [
      onnx.NodeProto.create({ opType: 'Gemm', input: ['features', 'W', 'B'], output: ['logits'] }),
      onnx.NodeProto.create({ opType: 'Softmax', input: ['logits'], output: ['probabilities'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] }),
    ],
    input: [valueInfo('features', ['batch', weights.length])],
    output: [valueInfo('probabilities', ['batch', 2])],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph })).finish();
}

/** The complete bundle spec of docs/bundle-format.md, as written there (four features, sklearn output). */
export async function bundleFormatExample(): Promise<string> {
  const doc = await fs.readFile(path.join(REPO_ROOT, 'docs', 'bundle-format.md'), 'utf8');
  const example = /## Complete example[\s\S]*?```json\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!example) throw new Error('docs/bundle-format.md has no "Complete example" JSON block');
  return example;
}
