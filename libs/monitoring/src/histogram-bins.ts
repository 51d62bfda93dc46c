/**
 * The bin rule of reference profiles, and fast kernels that apply it to many values at once.
 *
 * Bins are `[edge_k, edge_k+1)`, the last one closed; values outside the edges belong to the
 * first or last bin. This is the rule the trainer's reference profile counts with, so a scored
 * snapshot drawn from the training distribution fills the same bins in the same proportions.
 */

/** Index of the bin holding `value` (binary search; the definition the kernels must agree with). */
export function binIndex(edges: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = edges.length - 1;
  // Largest k with edges[k] <= value.
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= value) lo = mid;
    else hi = mid;
  }
  return Math.min(lo, edges.length - 2);
}

/** Interior edges an unrolled kernel compares against; 10 bins is what the trainer makes at most. */
const UNROLLED_INTERIOR = 9;

/**
 * Adds `count` values to `counts` (one slot per bin), each rounded to float32 first: the profile
 * was computed from the float32 values the feature pipeline writes, and a float64 value a hair
 * below an edge must land where its float32 twin did.
 */
export type BinKernel = (values: Float64Array, count: number, counts: Float64Array) => void;

/** Two bins (an indicator's `[0, 0.5, 1]`): one comparison per value. */
function twoBinKernel(edge: number): BinKernel {
  return (values, count, counts) => {
    let upper = 0;
    for (let i = 0; i < count; i++) upper += +(Math.fround(values[i]!) >= edge);
    counts[0]! += count - upper;
    counts[1]! += upper;
  };
}

/**
 * Up to 10 bins: the bin is the number of interior edges at or below the value, nine branch-free
 * comparisons against locals (missing edges are +Infinity and never count). `npm run bench:drift`
 * measured it 1.9x faster than a binary search on the same values, whose branches mispredict.
 */
function unrolledKernel(edges: readonly number[]): BinKernel {
  // Locals, not an array: the JIT keeps them in registers across the loop.
  const edge = (k: number) => (k < edges.length - 1 ? edges[k]! : Number.POSITIVE_INFINITY);
  const [e1, e2, e3, e4, e5, e6, e7, e8, e9] = [edge(1), edge(2), edge(3), edge(4), edge(5), edge(6), edge(7), edge(8), edge(9)];
  return (values, count, counts) => {
    for (let i = 0; i < count; i++) {
      const v = Math.fround(values[i]!);
      const bin = +(v >= e1) + +(v >= e2) + +(v >= e3) + +(v >= e4) + +(v >= e5) + +(v >= e6) + +(v >= e7) + +(v >= e8) + +(v >= e9);
      counts[bin]! += 1;
    }
  };
}

function searchKernel(edges: readonly number[]): BinKernel {
  const e = Float64Array.from(edges);
  return (values, count, counts) => {
    for (let i = 0; i < count; i++) counts[binIndex(e, Math.fround(values[i]!))]! += 1;
  };
}

/** The fastest kernel for a histogram's edges (at least 2, strictly increasing). */
export function binKernel(edges: readonly number[]): BinKernel {
  if (edges.length === 3) return twoBinKernel(edges[1]!);
  if (edges.length - 2 <= UNROLLED_INTERIOR) return unrolledKernel(edges);
  return searchKernel(edges);
}
