import { onnx } from 'onnx-proto';
import type { LogisticWeights, MlpWeights } from './model-weights';

/** Graph input and output names; bundle.json's model section names the same tensors. */
export const ONNX_INPUT_NAME = 'features';
export const ONNX_OUTPUT_NAME = 'churn_probability';

/** ONNX opset and IR version of exported models (IR 8 is what opset 17 runtimes expect). */
const OPSET_VERSION = 17;
const IR_VERSION = 8;

export interface OnnxExportOptions {
  /** Feature ids in input order, stored as model metadata (`feature_ids`) for people inspecting the file. */
  featureIds?: readonly string[];
  /** Human-readable description stored in the model's doc string. */
  description?: string;
}

/**
 * A float32 initialiser. rawData is written little-endian explicitly (the ONNX wire format),
 * not as the host's Float32Array bytes, so export is platform-independent.
 */
function floatTensor(name: string, dims: number[], values: ArrayLike<number>): onnx.ITensorProto {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return { name, dataType: onnx.TensorProto.DataType.FLOAT, dims, rawData: bytes };
}

/** A float32 [batch, width] tensor declaration with a symbolic batch dimension. */
function matrixValueInfo(name: string, width: number): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: 'batch' }, { dimValue: width }] },
      },
    },
  };
}

function node(opType: string, inputs: string[], output: string, attributes: onnx.IAttributeProto[] = []): onnx.INodeProto {
  return { opType, name: output, input: inputs, output: [output], attribute: attributes };
}

/** Gemm computing A x B^T + C, with B stored [out][in] like the weight matrices. */
function gemm(inputs: [string, string, string], output: string): onnx.INodeProto {
  return node('Gemm', inputs, output, [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }]);
}

function encodeModel(graph: onnx.IGraphProto, options: OnnxExportOptions): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    producerName: 'churn-scoring/model-trainer',
    // No timestamp or other run-dependent value: the same weights must give the same bytes.
    docString: options.description ?? '',
    graph,
    metadataProps: options.featureIds ? [{ key: 'feature_ids', value: JSON.stringify(options.featureIds) }] : [],
  });
  // protobufjs may hand back a Node Buffer; callers (sha256, store.put) want a plain Uint8Array.
  return new Uint8Array(onnx.ModelProto.encode(model).finish());
}

function checkLength(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new RangeError(`${what} has ${actual} values, expected ${expected}`);
}

/**
 * The MLP as an ONNX model: features [batch, F] -> Gemm -> Relu -> Gemm -> Sigmoid ->
 * churn_probability [batch, 1].
 */
export function exportMlpOnnx(weights: MlpWeights, options: OnnxExportOptions = {}): Uint8Array {
  const { inputs, hidden } = weights;
  checkLength('w1', weights.w1.length, hidden * inputs);
  checkLength('b1', weights.b1.length, hidden);
  checkLength('w2', weights.w2.length, hidden);
  const graph: onnx.IGraphProto = {
    name: 'churn_mlp',
    input: [matrixValueInfo(ONNX_INPUT_NAME, inputs)],
    output: [matrixValueInfo(ONNX_OUTPUT_NAME, 1)],
    initializer: [
      floatTensor('hidden_weight', [hidden, inputs], weights.w1),
      floatTensor('hidden_bias', [hidden], weights.b1),
      floatTensor('output_weight', [1, hidden], weights.w2),
      floatTensor('output_bias', [1], [weights.b2]),
    ],
    node: [
      gemm([ONNX_INPUT_NAME, 'hidden_weight', 'hidden_bias'], 'hidden_linear'),
      node('Relu', ['hidden_linear'], 'hidden_relu'),
      gemm(['hidden_relu', 'output_weight', 'output_bias'], 'churn_logit'),
      node('Sigmoid', ['churn_logit'], ONNX_OUTPUT_NAME),
    ],
  };
  return encodeModel(graph, options);
}

/** Logistic regression as an ONNX model: features [batch, F] -> Gemm -> Sigmoid -> churn_probability [batch, 1]. */
export function exportLogisticOnnx(weights: LogisticWeights, options: OnnxExportOptions = {}): Uint8Array {
  checkLength('w', weights.w.length, weights.inputs);
  const graph: onnx.IGraphProto = {
    name: 'churn_logistic',
    input: [matrixValueInfo(ONNX_INPUT_NAME, weights.inputs)],
    output: [matrixValueInfo(ONNX_OUTPUT_NAME, 1)],
    initializer: [floatTensor('coefficients', [1, weights.inputs], weights.w), floatTensor('intercept', [1], [weights.b])],
    node: [gemm([ONNX_INPUT_NAME, 'coefficients', 'intercept'], 'churn_logit'), node('Sigmoid', ['churn_logit'], ONNX_OUTPUT_NAME)],
  };
  return encodeModel(graph, options);
}
