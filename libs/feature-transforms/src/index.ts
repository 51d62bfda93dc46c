export { ColumnCache } from './column-cache';
export { numericColumn, categoricalColumn, stringValues, takeStrings, arrowTypeMatches } from './arrow-columns';
export type { NumericColumn, CategoricalColumn, ContractType } from './arrow-columns';
export { validateContract, missingColumns } from './contract-validator';
export type { ContractIssues } from './contract-validator';
export { eligibleMask, describeEligibility } from './eligibility';
export { compileFeaturePipeline, finishValue, transformColumns } from './feature-pipeline';
export type { FeaturePipeline } from './feature-pipeline';
