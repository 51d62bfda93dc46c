export { writeSynthDataset } from './synth-dataset-writer';
export { synthFileTable } from './synth-table';
export type { SynthOptions, SynthFileResult, SynthResult } from './synth-options';
export { trueChurnProbability, CHURN_COEFFICIENTS } from './churn-probability';
export { SYNTH_COLUMNS, LABEL_COLUMN, PLANS, STATUSES } from './synth-schema';
export { FAULT_KINDS, WRONG_TYPE_COLUMN, wrongTypeFileIndex } from './fault-injector';
export type { FaultKind } from './fault-injector';
export { DRIFT_SCENARIOS, DRIFT_SCENARIO_INFO, driftScenarioSchema, NEW_PLAN } from './drift-scenarios';
export type { DriftScenario } from './drift-scenarios';
