export { ChurnError, isChurnError, describeError } from './churn-error';
export type { ChurnErrorCode, ChurnErrorOptions } from './churn-error';
