/**
 * Distances between two histograms over the same bins. Both take raw counts and normalise them,
 * so callers never divide by a total that may be zero.
 */

/**
 * Floor applied to each bin's share before PSI takes its logarithm. An empty bin would make PSI
 * infinite; 1e-4 (one row in 10,000) caps what a bin that empties or appears can add at about
 * share * ln(share / 1e-4), e.g. 0.46 for a 5% bin, which is an alert either way.
 */
export const PSI_EPSILON = 1e-4;

/** Both histograms as shares of their totals; undefined when either is empty. */
function sharesOf(actual: readonly number[], expected: readonly number[]): [number[], number[]] | undefined {
  if (actual.length !== expected.length) throw new RangeError(`histograms differ in bins: ${actual.length} vs ${expected.length}`);
  const share = (counts: readonly number[]) => {
    const total = counts.reduce((a, b) => a + b, 0);
    return total > 0 ? counts.map((c) => c / total) : undefined;
  };
  const a = share(actual);
  const e = share(expected);
  return a && e ? [a, e] : undefined;
}

/**
 * Population stability index of `actual` against `expected`: sum over bins of
 * (a - e) * ln(a / e), a and e the bins' shares floored at PSI_EPSILON. 0 for identical shares;
 * null when either histogram is empty.
 */
export function populationStabilityIndex(actual: readonly number[], expected: readonly number[]): number | null {
  const pair = sharesOf(actual, expected);
  if (!pair) return null;
  const [a, e] = pair;
  let psi = 0;
  for (let i = 0; i < a.length; i++) {
    const p = Math.max(a[i]!, PSI_EPSILON);
    const q = Math.max(e[i]!, PSI_EPSILON);
    psi += (p - q) * Math.log(p / q);
  }
  return psi;
}

/**
 * Jensen-Shannon distance (the square root of the JS divergence, logarithms base 2), in [0, 1]:
 * 0 for identical shares, 1 for histograms with no bin in common. Needs no epsilon (0 log 0 = 0).
 * Null when either histogram is empty.
 */
export function jensenShannonDistance(actual: readonly number[], expected: readonly number[]): number | null {
  const pair = sharesOf(actual, expected);
  if (!pair) return null;
  const [a, e] = pair;
  let divergence = 0;
  for (let i = 0; i < a.length; i++) {
    const p = a[i]!;
    const q = e[i]!;
    const m = (p + q) / 2;
    if (p > 0) divergence += 0.5 * p * Math.log2(p / m);
    if (q > 0) divergence += 0.5 * q * Math.log2(q / m);
  }
  // Rounding can leave a tiny negative or a hair above 1.
  return Math.sqrt(Math.min(1, Math.max(0, divergence)));
}
