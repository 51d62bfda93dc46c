import { ChurnError } from '@churn/errors';

/**
 * Area under the ROC curve by ranks (the Mann-Whitney U statistic): the probability that a random
 * positive scores above a random negative, ties counting one half. Tied scores share their mean
 * rank, so the result does not depend on row order. O(n log n).
 *
 * @param scores one score per row (any monotone scale: probabilities, logits)
 * @param labels 1 for a positive row, 0 for a negative one
 * @returns the AUC in [0, 1], or NaN when either class is absent (AUC is undefined then)
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) {
    throw new ChurnError('INVALID_ARGUMENT', `rocAuc needs one label per score: got ${n} scores and ${labels.length} labels`);
  }
  const values = new Float64Array(n);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const score = scores[i]!;
    const label = labels[i]!;
    if (Number.isNaN(score)) throw new ChurnError('INVALID_ARGUMENT', `rocAuc: score ${i} is NaN`);
    if (label !== 0 && label !== 1) throw new ChurnError('INVALID_ARGUMENT', `rocAuc: label ${i} is ${label}, expected 0 or 1`);
    values[i] = score;
    positives += label;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;

  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => values[a]! - values[b]!);

  // Sum of (1-based, tie-averaged) ranks of the positives.
  let rankSum = 0;
  for (let start = 0; start < n; ) {
    const value = values[order[start]!]!;
    let end = start + 1;
    while (end < n && values[order[end]!]! === value) end++;
    const meanRank = (start + 1 + end) / 2;
    let tiedPositives = 0;
    for (let k = start; k < end; k++) tiedPositives += labels[order[k]!]!;
    rankSum += tiedPositives * meanRank;
    start = end;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
