import { onnx } from 'onnx-proto';
import { TREE_NODE_MODES, type TreeEnsemble, type TreeLink } from '@churn/explain';
import { decodeGraph, fedByGraphInput, num, producerOf } from './onnx-graph';

/** Which output of the graph is P(churn), as the bundle's model section says. */
export interface TreeOutputSpec {
  name: string;
  probabilityIndex: number;
  /** `logit`: the scorer applies a sigmoid to the output. */
  kind: 'probability' | 'logit';
}

/** A tree ensemble read from a graph, or why the graph is not one the tree method can read. */
export type TreeReadResult = { trees: TreeEnsemble } | { unsupported: string };

class Attributes {
  private readonly byName: Map<string, onnx.IAttributeProto>;
  constructor(node: onnx.INodeProto) {
    this.byName = new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
  }
  ints(name: string): number[] | undefined {
    const a = this.byName.get(name);
    return a?.ints && a.ints.length > 0 ? a.ints.map(num) : undefined;
  }
  /** float attribute, or its `_as_tensor` double twin. */
  floats(name: string): { values: number[]; double: boolean } | undefined {
    const a = this.byName.get(name);
    if (a?.floats && a.floats.length > 0) return { values: a.floats.map((v) => Math.fround(v)), double: false };
    const t = this.byName.get(`${name}_as_tensor`)?.t;
    if (t) {
      if (t.doubleData && t.doubleData.length > 0) return { values: t.doubleData, double: true };
      if (t.rawData && t.rawData.length > 0) {
        const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
        return { values: Array.from({ length: t.rawData.byteLength / 8 }, (_, i) => view.getFloat64(i * 8, true)), double: true };
      }
    }
    return undefined;
  }
  strings(name: string): string[] | undefined {
    const a = this.byName.get(name);
    return a?.strings && a.strings.length > 0 ? a.strings.map((s) => new TextDecoder().decode(s)) : undefined;
  }
  string(name: string): string | undefined {
    const s = this.byName.get(name)?.s;
    return s && s.length > 0 ? new TextDecoder().decode(s) : undefined;
  }
  int(name: string): number | undefined {
    const i = this.byName.get(name)?.i;
    return i === undefined || i === null ? undefined : num(i);
  }
}

/** Leaf weights of one output column: (tree, node) -> weight, summed over repeated entries. */
function leafWeights(treeIds: number[], nodeIds: number[], ids: number[], weights: number[], column: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < weights.length; i++) {
    if (ids[i] !== column) continue;
    const key = `${treeIds[i]}:${nodeIds[i]}`;
    out.set(key, Math.fround((out.get(key) ?? 0) + weights[i]!));
  }
  return out;
}

/**
 * The nodes of the ensemble with leaf values `leaf(treeId, nodeId)` (already signed and scaled).
 * Returns the structure, or a reason string.
 */
function buildNodes(attrs: Attributes, featureCount: number, leaf: (key: string) => number, base: number, link: TreeLink): TreeEnsemble | string {
  const treeIds = attrs.ints('nodes_treeids');
  const nodeIds = attrs.ints('nodes_nodeids');
  const featureIds = attrs.ints('nodes_featureids');
  const values = attrs.floats('nodes_values');
  const modes = attrs.strings('nodes_modes');
  const trueIds = attrs.ints('nodes_truenodeids');
  const falseIds = attrs.ints('nodes_falsenodeids');
  const missing = attrs.ints('nodes_missing_value_tracks_true');
  if (!treeIds || !nodeIds || !featureIds || !modes || !trueIds || !falseIds) return 'its node attributes (nodes_treeids, nodes_nodeids, nodes_featureids, nodes_modes, nodes_truenodeids, nodes_falsenodeids) are incomplete';
  const n = nodeIds.length;
  if ([treeIds, featureIds, modes, trueIds, falseIds].some((a) => a.length !== n) || (values && values.values.length !== n) || (missing && missing.length !== n)) {
    return 'its node attributes have different lengths';
  }
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set(`${treeIds[i]}:${nodeIds[i]}`, i);
  const feature = new Int32Array(n);
  const threshold = new Float64Array(n);
  const mode = new Uint8Array(n);
  const missingTrue = new Uint8Array(n);
  const trueChild = new Int32Array(n).fill(-1);
  const falseChild = new Int32Array(n).fill(-1);
  const leafValue = new Float64Array(n);
  const isChild = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const m = TREE_NODE_MODES.indexOf(modes[i] as (typeof TREE_NODE_MODES)[number]);
    if (m < 0) return `node ${nodeIds[i]} of tree ${treeIds[i]} has the unknown mode "${modes[i]}"`;
    mode[i] = m;
    missingTrue[i] = missing?.[i] ? 1 : 0;
    threshold[i] = values?.values[i] ?? 0;
    if (modes[i] === 'LEAF') {
      feature[i] = -1;
      leafValue[i] = leaf(`${treeIds[i]}:${nodeIds[i]}`);
      continue;
    }
    feature[i] = featureIds[i]!;
    if (feature[i]! < 0 || feature[i]! >= featureCount) return `node ${nodeIds[i]} of tree ${treeIds[i]} tests feature ${featureIds[i]}, outside the model's ${featureCount} inputs`;
    const t = index.get(`${treeIds[i]}:${trueIds[i]}`);
    const f = index.get(`${treeIds[i]}:${falseIds[i]}`);
    if (t === undefined || f === undefined) return `node ${nodeIds[i]} of tree ${treeIds[i]} points at a node that does not exist`;
    trueChild[i] = t;
    falseChild[i] = f;
    isChild[t] = 1;
    isChild[f] = 1;
  }
  const rootOf = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    if (isChild[i]) continue;
    if (rootOf.has(treeIds[i]!)) return `tree ${treeIds[i]} has more than one root`;
    rootOf.set(treeIds[i]!, i);
  }
  const roots = Int32Array.from([...rootOf.entries()].sort((a, b) => a[0] - b[0]).map(([, i]) => i));
  return { featureCount, feature, threshold, mode, missingTrue, trueChild, falseChild, leafValue, roots, base, link };
}

function readRegressor(node: onnx.INodeProto, featureCount: number, link: TreeLink): TreeEnsemble | string {
  const attrs = new Attributes(node);
  const targets = attrs.int('n_targets') ?? 1;
  if (targets !== 1) return `its regressor has ${targets} targets, not 1`;
  const aggregate = attrs.string('aggregate_function') ?? 'SUM';
  if (aggregate !== 'SUM' && aggregate !== 'AVERAGE') return `its aggregate_function is ${aggregate} (only SUM and AVERAGE are additive)`;
  const post = attrs.string('post_transform') ?? 'NONE';
  if (post !== 'NONE' && post !== 'LOGISTIC') return `its post_transform is ${post}`;
  if (post === 'LOGISTIC') {
    if (link === 'logistic') return 'it applies a sigmoid twice';
    link = 'logistic';
  }
  const treeIds = attrs.ints('target_treeids') ?? [];
  const weights = attrs.floats('target_weights')?.values ?? [];
  const w = leafWeights(treeIds, attrs.ints('target_nodeids') ?? [], attrs.ints('target_ids') ?? [], weights, 0);
  const trees = new Set(attrs.ints('nodes_treeids') ?? []).size;
  const scale = aggregate === 'AVERAGE' ? 1 / Math.max(trees, 1) : 1;
  const base = attrs.floats('base_values')?.values[0] ?? 0;
  return buildNodes(attrs, featureCount, (key) => (w.get(key) ?? 0) * scale, base, link);
}

/**
 * ONNX Runtime's binary TreeEnsembleClassifier: weights for one class id give one score s and the
 * probabilities [1 - g(s), g(s)] (g the post transform: sigmoid for LOGISTIC, identity for NONE,
 * whatever the weights' signs, checked against ONNX Runtime). Weights for both classes,
 * SOFTMAX and PROBIT are not read (sampling explains such models).
 */
function readClassifier(node: onnx.INodeProto, featureCount: number, column: number): TreeEnsemble | string {
  const attrs = new Attributes(node);
  const labels = attrs.ints('classlabels_int64s') ?? attrs.strings('classlabels_strings');
  if (!labels || labels.length !== 2) return `it is not a binary classifier (${labels?.length ?? 0} class labels)`;
  if (column > 1) return `the bundle reads column ${column} of a two-class output`;
  const post = attrs.string('post_transform') ?? 'NONE';
  const ids = attrs.ints('class_ids') ?? [];
  const treeIds = attrs.ints('class_treeids') ?? [];
  const nodeIds = attrs.ints('class_nodeids') ?? [];
  const weights = attrs.floats('class_weights')?.values ?? [];
  const bases = attrs.floats('base_values')?.values ?? [];
  const classes = [...new Set(ids)];
  if (classes.length === 1) {
    // One score s: ONNX Runtime writes [1 - g(s), g(s)] (g = sigmoid for LOGISTIC, identity for NONE).
    const w = leafWeights(treeIds, nodeIds, ids, weights, classes[0]!);
    const sign = column === 1 ? 1 : -1;
    const base = bases[0] ?? 0;
    if (post === 'LOGISTIC') return buildNodes(attrs, featureCount, (key) => sign * (w.get(key) ?? 0), sign * base, 'logistic');
    if (post === 'NONE') return buildNodes(attrs, featureCount, (key) => sign * (w.get(key) ?? 0), column === 1 ? base : 1 - base, 'identity');
    return `its post_transform is ${post} (only LOGISTIC and NONE are additive per class)`;
  }
  // Weights for both classes (scikit-learn forests) are left to sampling: not checked against ONNX Runtime here.
  return `it carries weights for ${classes.length} class ids; the tree method reads binary classifiers with one score (weights for one class id)`;
}

/**
 * Reads the tree ensemble behind a bundle's P(churn) output from an ONNX graph: an `ai.onnx.ml`
 * TreeEnsembleClassifier (probabilities output, as the XGBoost, LightGBM and scikit-learn
 * converters emit with zipmap=False) or TreeEnsembleRegressor (alone, with post_transform
 * LOGISTIC, or followed by a Sigmoid, as `churn train --kind gbdt` exports), fed directly by the
 * graph input. Anything else is `unsupported`, with the reason (such models are explained by
 * sampling).
 */
export function readTreeEnsemble(modelBytes: Uint8Array, output: TreeOutputSpec, featureCount: number): TreeReadResult {
  const graph = decodeGraph(modelBytes);
  if (typeof graph === 'string') return { unsupported: graph };
  const result = ((): TreeEnsemble | string => {
    let produced = producerOf(graph, output.name);
    let link: TreeLink = output.kind === 'logit' ? 'logistic' : 'identity';
    if (produced?.node.opType === 'Sigmoid') {
      if (link === 'logistic') return 'it applies a sigmoid twice';
      link = 'logistic';
      produced = producerOf(graph, produced.node.input?.[0] ?? '');
      if (produced && produced.node.opType !== 'TreeEnsembleRegressor') return `its Sigmoid is fed by ${produced.node.opType}, not a TreeEnsembleRegressor`;
    }
    if (!produced) return `no tree-ensemble node produces the output "${output.name}"`;
    const { node } = produced;
    if (!fedByGraphInput(graph, node.input?.[0] ?? '')) return `its ${node.opType} does not read the graph input directly`;
    if (node.opType === 'TreeEnsembleRegressor') {
      if (output.probabilityIndex !== 0) return `the bundle reads column ${output.probabilityIndex} of a one-column regressor`;
      return readRegressor(node, featureCount, link);
    }
    if (node.opType === 'TreeEnsembleClassifier') {
      if (produced.output !== 1) return `the output "${output.name}" is the classifier's label, not its probabilities`;
      if (output.kind === 'logit') return 'the bundle reads classifier probabilities as logits';
      return readClassifier(node, featureCount, output.probabilityIndex);
    }
    return `the output "${output.name}" is produced by ${node.opType}, not a tree ensemble`;
  })();
  return typeof result === 'string' ? { unsupported: result } : { trees: result };
}
