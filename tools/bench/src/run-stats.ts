/** Minimum and median of repeated measurements (the median of an even count is the mean of the middle two). */
export interface Stats {
  min: number;
  median: number;
}

export function statsOf(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return { min: sorted[0]!, median: sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2 };
}

export const median = (values: readonly number[]): number => statsOf(values).median;
