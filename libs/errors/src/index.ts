export { ChurnError, isChurnError, describeError, serializeError, deserializeError, toChurnError, serializedErrorSchema } from './churn-error';
export type { ChurnErrorOptions, SerializedError } from './churn-error';
export { ERROR_CODES, ERROR_POLICY, RETRY_POLICIES, errorPolicy, exitCodeOf } from './error-policy';
export type { ChurnErrorCode, ErrorPolicy, RetryPolicy } from './error-policy';
