import { onnx } from 'onnx-proto';
import { checkDenseNetwork, type DenseNetwork } from '@churn/explain';
import { decodeGraph, fedByGraphInput, num, producerOf } from './onnx-graph';
import type { TreeOutputSpec } from './onnx-tree-reader';

/** A dense network read from a graph, or why the graph is not one. */
export type NetworkReadResult = { network: DenseNetwork } | { unsupported: string };

/** A float32 initializer's values and dimensions, from `floatData` or little-endian `rawData`. */
function initializer(graph: onnx.IGraphProto, name: string): { dims: number[]; values: Float32Array } | undefined {
  const tensor = (graph.initializer ?? []).find((t) => t.name === name);
  if (!tensor || tensor.dataType !== onnx.TensorProto.DataType.FLOAT) return undefined;
  const dims = (tensor.dims ?? []).map(num);
  if (tensor.floatData && tensor.floatData.length > 0) return { dims, values: Float32Array.from(tensor.floatData) };
  if (tensor.rawData && tensor.rawData.length > 0) {
    const view = new DataView(tensor.rawData.buffer, tensor.rawData.byteOffset, tensor.rawData.byteLength);
    return { dims, values: Float32Array.from({ length: tensor.rawData.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true)) };
  }
  return { dims, values: new Float32Array(0) };
}

/** Whether a Gemm computes A x B^T + C: transB = 1, no transA, alpha = beta = 1. */
function plainGemm(node: onnx.INodeProto): boolean {
  const attribute = (name: string) => (node.attribute ?? []).find((a) => a.name === name);
  const int = (name: string, fallback: number) => {
    const a = attribute(name);
    return a?.i === undefined || a.i === null ? fallback : num(a.i);
  };
  const float = (name: string) => attribute(name)?.f ?? 1;
  return int('transB', 0) === 1 && int('transA', 0) === 0 && float('alpha') === 1 && float('beta') === 1;
}

/**
 * Reads a one-hidden-layer ReLU network behind the bundle's P(churn) output: graph input ->
 * Gemm -> Relu -> Gemm (one output) -> Sigmoid (or no Sigmoid, for a bundle whose output is a
 * logit), with both Gemms' weights stored [out][in] (transB), as `churn train` exports its MLP.
 * Anything else is `unsupported`, with the reason; such models are explained by evaluating rows.
 */
export function readDenseNetwork(modelBytes: Uint8Array, output: TreeOutputSpec, featureCount: number): NetworkReadResult {
  const graph = decodeGraph(modelBytes);
  if (typeof graph === 'string') return { unsupported: graph };
  const result = ((): DenseNetwork | string => {
    if (output.probabilityIndex !== 0) return `the bundle reads column ${output.probabilityIndex} of the output`;
    let produced = producerOf(graph, output.name);
    if (output.kind === 'probability') {
      if (produced?.node.opType !== 'Sigmoid') return `its output "${output.name}" is not produced by a Sigmoid`;
      produced = producerOf(graph, produced.node.input?.[0] ?? '');
    }
    const last = produced?.node;
    if (last?.opType !== 'Gemm' || !plainGemm(last)) return 'the logit is not produced by a Gemm with transB';
    const relu = producerOf(graph, last.input?.[0] ?? '')?.node;
    if (relu?.opType !== 'Relu') return 'the output layer is not fed by a Relu';
    const first = producerOf(graph, relu.input?.[0] ?? '')?.node;
    if (first?.opType !== 'Gemm' || !plainGemm(first)) return 'the Relu is not fed by a Gemm with transB';
    if (!fedByGraphInput(graph, first.input?.[0] ?? '')) return 'the hidden layer does not read the graph input directly';
    const [w1, b1, w2, b2] = [first.input?.[1], first.input?.[2], last.input?.[1], last.input?.[2]].map((name) => (name ? initializer(graph, name) : undefined));
    if (!w1 || !b1 || !w2 || !b2) return 'a layer lacks float32 weights or biases stored in the graph';
    const hidden = w1.dims[0] ?? 0;
    if (w1.dims.length !== 2 || w1.dims[1] !== featureCount) return `the hidden layer's weights are [${w1.dims.join(', ')}], not [hidden, ${featureCount}]`;
    if (w2.dims.join() !== `1,${hidden}` || b2.values.length !== 1) return `the output layer is not one unit over the ${hidden} hidden units`;
    return { inputs: featureCount, hidden, w1: w1.values, b1: b1.values, w2: w2.values, b2: b2.values[0]! };
  })();
  if (typeof result === 'string') return { unsupported: result };
  try {
    checkDenseNetwork(result, featureCount);
  } catch (cause) {
    return { unsupported: (cause as Error).message };
  }
  return { network: result };
}
