import { onnx } from 'onnx-proto';
import { TREE_NODE_MODES, type TreeEnsemble } from '@churn/explain';
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

/** How a tree ensemble is written: our GBDT export, or the shapes tree converters emit. */
export interface TreeExportOptions extends OnnxExportOptions {
  /**
   * `regressor-sigmoid` (default, `churn train --kind gbdt`): TreeEnsembleRegressor (the margin)
   * then Sigmoid -> churn_probability [batch, 1]. `classifier`: a binary TreeEnsembleClassifier
   * with outputs `label` (int64 [batch]) and `probabilities` (float [batch, 2]), as the XGBoost,
   * LightGBM and scikit-learn converters emit it with zipmap=False.
   */
  shape?: 'regressor-sigmoid' | 'classifier';
  /** classifier: append a ZipMap (what converters emit without zipmap=False), for testing its refusal. */
  zipMap?: boolean;
}

const ML_DOMAIN = 'ai.onnx.ml';
const ML_OPSET_VERSION = 3;

/** Per-node attribute arrays with tree-local node ids (0 = root, breadth first). */
function treeAttributes(trees: TreeEnsemble): { attrs: onnx.IAttributeProto[]; leaves: { tree: number; node: number; value: number }[] } {
  const A = onnx.AttributeProto.AttributeType;
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const values: number[] = [];
  const modes: Uint8Array[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const missing: number[] = [];
  const leaves: { tree: number; node: number; value: number }[] = [];
  const encoder = new TextEncoder();
  trees.roots.forEach((root, t) => {
    const order = [root];
    const local = new Map<number, number>([[root, 0]]);
    for (let i = 0; i < order.length; i++) {
      const node = order[i]!;
      if (trees.feature[node]! >= 0) {
        for (const child of [trees.trueChild[node]!, trees.falseChild[node]!]) {
          local.set(child, order.length);
          order.push(child);
        }
      }
    }
    for (const node of order) {
      const leaf = trees.feature[node]! < 0;
      treeIds.push(t);
      nodeIds.push(local.get(node)!);
      featureIds.push(leaf ? 0 : trees.feature[node]!);
      values.push(leaf ? 0 : trees.threshold[node]!);
      modes.push(encoder.encode(TREE_NODE_MODES[trees.mode[node]!]));
      trueIds.push(leaf ? 0 : local.get(trees.trueChild[node]!)!);
      falseIds.push(leaf ? 0 : local.get(trees.falseChild[node]!)!);
      missing.push(trees.missingTrue[node]!);
      if (leaf) leaves.push({ tree: t, node: local.get(node)!, value: trees.leafValue[node]! });
    }
  });
  const attrs: onnx.IAttributeProto[] = [
    { name: 'nodes_treeids', type: A.INTS, ints: treeIds },
    { name: 'nodes_nodeids', type: A.INTS, ints: nodeIds },
    { name: 'nodes_featureids', type: A.INTS, ints: featureIds },
    { name: 'nodes_values', type: A.FLOATS, floats: values },
    { name: 'nodes_modes', type: A.STRINGS, strings: modes },
    { name: 'nodes_truenodeids', type: A.INTS, ints: trueIds },
    { name: 'nodes_falsenodeids', type: A.INTS, ints: falseIds },
    { name: 'nodes_missing_value_tracks_true', type: A.INTS, ints: missing },
  ];
  return { attrs, leaves };
}

/**
 * A tree ensemble as an ONNX model (`ai.onnx.ml` opset 3). Thresholds and leaf weights are
 * written as float32, the values `TreeEnsemble` holds for a trained model, so ONNX Runtime and
 * `treeMargin` compute the same function (up to float32 summation).
 */
export function exportTreeEnsembleOnnx(trees: TreeEnsemble, options: TreeExportOptions = {}): Uint8Array {
  const A = onnx.AttributeProto.AttributeType;
  const text = (s: string) => new TextEncoder().encode(s);
  const { attrs, leaves } = treeAttributes(trees);
  const input = matrixValueInfo(ONNX_INPUT_NAME, trees.featureCount);
  let graph: onnx.IGraphProto;
  if ((options.shape ?? 'regressor-sigmoid') === 'regressor-sigmoid') {
    if (trees.link !== 'logistic') throw new RangeError('regressor-sigmoid export needs a logistic-link ensemble');
    const regressor: onnx.INodeProto = {
      opType: 'TreeEnsembleRegressor',
      domain: ML_DOMAIN,
      name: 'churn_trees',
      input: [ONNX_INPUT_NAME],
      output: ['churn_margin'],
      attribute: [
        ...attrs,
        { name: 'n_targets', type: A.INT, i: 1 },
        { name: 'target_treeids', type: A.INTS, ints: leaves.map((l) => l.tree) },
        { name: 'target_nodeids', type: A.INTS, ints: leaves.map((l) => l.node) },
        { name: 'target_ids', type: A.INTS, ints: leaves.map(() => 0) },
        { name: 'target_weights', type: A.FLOATS, floats: leaves.map((l) => l.value) },
        { name: 'base_values', type: A.FLOATS, floats: [trees.base] },
        { name: 'post_transform', type: A.STRING, s: text('NONE') },
        { name: 'aggregate_function', type: A.STRING, s: text('SUM') },
      ],
    };
    graph = {
      name: 'churn_gbdt',
      input: [input],
      output: [matrixValueInfo(ONNX_OUTPUT_NAME, 1)],
      node: [regressor, node('Sigmoid', ['churn_margin'], ONNX_OUTPUT_NAME)],
    };
  } else {
    const post = trees.link === 'logistic' ? 'LOGISTIC' : 'NONE';
    const classLeaves = leaves.map((l) => ({ ...l, id: 0 }));
    const classifier: onnx.INodeProto = {
      opType: 'TreeEnsembleClassifier',
      domain: ML_DOMAIN,
      name: 'churn_trees',
      input: [ONNX_INPUT_NAME],
      output: ['label', options.zipMap ? 'probability_tensor' : 'probabilities'],
      attribute: [
        ...attrs,
        { name: 'classlabels_int64s', type: A.INTS, ints: [0, 1] },
        { name: 'class_treeids', type: A.INTS, ints: classLeaves.map((l) => l.tree) },
        { name: 'class_nodeids', type: A.INTS, ints: classLeaves.map((l) => l.node) },
        { name: 'class_ids', type: A.INTS, ints: classLeaves.map((l) => l.id) },
        { name: 'class_weights', type: A.FLOATS, floats: classLeaves.map((l) => l.value) },
        { name: 'base_values', type: A.FLOATS, floats: [trees.base] },
        { name: 'post_transform', type: A.STRING, s: text(post) },
      ],
    };
    const label: onnx.IValueInfoProto = { name: 'label', type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: [{ dimParam: 'batch' }] } } } };
    const nodes = [classifier];
    let probabilities = matrixValueInfo('probabilities', 2);
    if (options.zipMap) {
      nodes.push({ opType: 'ZipMap', domain: ML_DOMAIN, name: 'zipmap', input: ['probability_tensor'], output: ['output_probability'], attribute: [{ name: 'classlabels_int64s', type: A.INTS, ints: [0, 1] }] });
      probabilities = {
        name: 'output_probability',
        type: { sequenceType: { elemType: { mapType: { keyType: onnx.TensorProto.DataType.INT64, valueType: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } } } } },
      };
    }
    graph = { name: 'tree_classifier', input: [input], output: [label, probabilities], node: nodes };
  }
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [
      { domain: '', version: OPSET_VERSION },
      { domain: ML_DOMAIN, version: ML_OPSET_VERSION },
    ],
    producerName: 'churn-scoring/model-trainer',
    docString: options.description ?? '',
    graph,
    metadataProps: options.featureIds ? [{ key: 'feature_ids', value: JSON.stringify(options.featureIds) }] : [],
  });
  return new Uint8Array(onnx.ModelProto.encode(model).finish());
}
