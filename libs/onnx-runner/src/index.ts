export { OnnxScorer, defaultBatchRows, inspectModel, signatureProblems } from './onnx-scorer';
export type { ScorerOptions, ModelSignature, TensorInfo } from './onnx-scorer';
export { parseDevice, candidateDevices, cudaProviderInstalled, webgpuHostProblem, autoSkipReason, DEVICES } from './execution-provider';
export type { Device, ResolvedDevice, VulkanProbeOptions } from './execution-provider';
