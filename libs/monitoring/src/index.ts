export { binIndex } from './histogram-bins';
export { createDriftAccumulator, mergeDriftHistograms, driftHistogramsSchema, featureHistogramSchema } from './drift-histograms';
export type { DriftAccumulator, DriftHistograms } from './drift-histograms';
export { populationStabilityIndex, jensenShannonDistance, PSI_EPSILON } from './drift-statistics';
export { computeDrift, driftReportSchema, featureDriftSchema, driftThresholdsSchema, DRIFT_STATUSES } from './drift-report';
export type { DriftReport, FeatureDrift, DriftStatus, DriftThresholds, DriftRates } from './drift-report';
export { evaluateScores, evaluationMetricsSchema, calibrationBinSchema, CALIBRATION_GROUPS } from './evaluation-metrics';
export type { EvaluationMetrics, EvaluationInput } from './evaluation-metrics';
export { rocAuc } from './roc-auc';
