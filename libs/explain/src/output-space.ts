/** Probabilities are clamped to [LOGIT_EPSILON, 1 - LOGIT_EPSILON] before the logit, so 0 and 1 stay finite. */
export const LOGIT_EPSILON = 1e-7;

/** log(p / (1 - p)) of p clamped to [1e-7, 1 - 1e-7]: the value logit-space contributions add up to. */
export function logit(p: number): number {
  const q = p < LOGIT_EPSILON ? LOGIT_EPSILON : p > 1 - LOGIT_EPSILON ? 1 - LOGIT_EPSILON : p;
  return Math.log(q / (1 - q));
}
