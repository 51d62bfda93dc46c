export { OnnxScorer, inspectModel, signatureProblems } from './onnx-scorer';
export type { ScorerOptions, ModelSignature, TensorInfo } from './onnx-scorer';
export { parseDevice, candidateDevices, cudaProviderInstalled, DEVICES } from './execution-provider';
export type { Device, ResolvedDevice } from './execution-provider';
