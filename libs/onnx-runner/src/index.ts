export { OnnxScorer, inspectModel, signatureProblems } from './onnx-scorer';
export type { ScorerOptions, ModelSignature, TensorInfo } from './onnx-scorer';
export { parseDevice, candidateDevices, DEVICES } from './execution-provider';
export type { Device, ResolvedDevice } from './execution-provider';
