import { ChurnError } from '@churn/errors';
import type { ModelEvaluator, ModelOutput } from './explain-types';

/**
 * One explanation method's perturbed rows, seen per explained row ("customer"). A customer's
 * evaluation count may vary (players equal to the baseline are skipped), so `build` says how many
 * rows it wrote and `fold` reads back the same number.
 */
export interface PerturbationPlan {
  /** The most evaluations one customer can need (sizes the chunk buffers). */
  readonly maxRowsPerCustomer: number;
  /** Writes customer `row`'s perturbed rows into `out` from element offset `at` (row-major); returns the rows written. */
  build(row: number, out: Float32Array, at: number): number;
  /** Folds customer `row`'s model outputs, from `values[from]` on, into its contributions; returns the values consumed. `baseline` is f(baseline). */
  fold(row: number, values: ModelOutput, from: number, baseline: number): number;
}

export interface ChunkRun {
  /** f(baseline), as the model returned it (probability). */
  baseline: number;
  evaluations: number;
  evaluateCalls: number;
}

interface Chunk {
  first: number;
  end: number;
  rows: number;
  buffer: Float32Array;
}

const NO_VALUES = new Float32Array(0);

/**
 * Evaluates a plan for `rows` customers in chunks of whole customers, each chunk one evaluate()
 * call of at least `minBatch` rows (except the last), built straight into a float32 buffer. The
 * baseline row rides along at the start of the first chunk rather than costing its own call.
 *
 * Two buffers alternate so the next chunk is built while the model evaluates the current one
 * (ONNX Runtime runs off the JS thread), and folding overlaps the next evaluation too.
 */
export async function runInChunks(
  model: ModelEvaluator,
  plan: PerturbationPlan,
  rows: number,
  baselineRow: Float32Array,
  minBatch: number,
): Promise<ChunkRun> {
  const width = model.featureCount;
  const perCustomer = plan.maxRowsPerCustomer;
  // A chunk stops at the first customer that takes it to minBatch rows (the baseline row counts
  // in the first), so it never exceeds this.
  const capacity = Math.min(1 + rows * perCustomer, Math.max(1, minBatch - 1 + perCustomer, 1 + perCustomer));
  const buffers = [new Float32Array(capacity * width), NO_VALUES];

  const build = (first: number, slot: number): Chunk => {
    if (buffers[slot]!.length === 0) buffers[slot] = new Float32Array(capacity * width);
    const buffer = buffers[slot]!;
    let written = 0;
    if (first === 0) {
      buffer.set(baselineRow);
      written = 1;
    }
    let row = first;
    // At least one customer per chunk, however small minBatch is, so every chunk makes progress.
    while (row < rows && (row === first || written < minBatch)) written += plan.build(row++, buffer, written * width);
    return { first, end: row, rows: written, buffer };
  };

  let evaluations = 0;
  let evaluateCalls = 0;
  const evaluate = async (chunk: Chunk): Promise<ModelOutput> => {
    // Customers with no evaluations (every player at the baseline) can leave a chunk empty.
    if (chunk.rows === 0) return NO_VALUES;
    evaluations += chunk.rows;
    evaluateCalls++;
    const values = await model.evaluate(chunk.buffer.subarray(0, chunk.rows * width), chunk.rows);
    if (values.length < chunk.rows) {
      throw new ChurnError('MODEL_MISMATCH', `the model evaluator returned ${values.length} values for ${chunk.rows} rows`);
    }
    return values;
  };

  let chunk = build(0, 0);
  let pending = evaluate(chunk);
  let baseline = Number.NaN;
  for (let slot = 1; ; slot ^= 1) {
    let next: Chunk | undefined;
    try {
      if (chunk.end < rows) next = build(chunk.end, slot);
    } catch (error) {
      // The evaluation in flight is abandoned; keep its failure, if any, from going unhandled.
      pending.catch(() => undefined);
      throw error;
    }
    const values = await pending;
    if (next) pending = evaluate(next);
    let from = 0;
    if (chunk.first === 0) {
      baseline = values[0]!;
      from = 1;
    }
    for (let row = chunk.first; row < chunk.end; row++) from += plan.fold(row, values, from, baseline);
    if (!next) break;
    chunk = next;
  }
  return { baseline, evaluations, evaluateCalls };
}
