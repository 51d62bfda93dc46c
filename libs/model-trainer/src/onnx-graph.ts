import { onnx } from 'onnx-proto';

type Long = { toString(): string };
/** An int64 field as protobufjs decodes it (a number, or a Long for large values) as a number. */
export const num = (v: number | Long): number => (typeof v === 'number' ? v : Number(v.toString()));

/** A model's graph, or why there is none to read. */
export function decodeGraph(modelBytes: Uint8Array): onnx.IGraphProto | string {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(modelBytes);
  } catch (cause) {
    return `the model does not decode as ONNX (${(cause as Error).message})`;
  }
  return model.graph ?? 'the model has no graph';
}

/** Follows Identity nodes back from a tensor to the node producing it. */
export function producerOf(graph: onnx.IGraphProto, tensor: string): { node: onnx.INodeProto; output: number } | undefined {
  let name = tensor;
  for (let hops = 0; hops < 16; hops++) {
    const node = (graph.node ?? []).find((n) => (n.output ?? []).includes(name));
    if (!node) return undefined;
    if (node.opType !== 'Identity') return { node, output: (node.output ?? []).indexOf(name) };
    name = node.input?.[0] ?? '';
  }
  return undefined;
}

/** Whether `tensor` is the graph input, possibly through Identity or a Cast to float. */
export function fedByGraphInput(graph: onnx.IGraphProto, tensor: string): boolean {
  const inputs = new Set((graph.input ?? []).map((i) => i.name));
  let name = tensor;
  for (let hops = 0; hops < 16; hops++) {
    if (inputs.has(name)) return true;
    const node = (graph.node ?? []).find((n) => (n.output ?? []).includes(name));
    if (!node || (node.opType !== 'Identity' && node.opType !== 'Cast')) return false;
    name = node.input?.[0] ?? '';
  }
  return false;
}
