export { churnErrorOf } from './churn-error-of';
