import type { CustomerColumns } from './customer-generator';
import type { Prng } from './prng';
import { PLANS, UNKNOWN_PLANS, type IntColumn } from './synth-schema';

/**
 * Dirty mode: realistic upstream mistakes, injected deterministically so tests can assert the
 * exact number of rows a validator must quarantine.
 */

/** Fault kinds, as keys of SynthFileResult.faults. */
export const FAULT_KINDS = [
  /** A required column is null: tenure_days, plan, status or seats_purchased. */
  'null_required',
  /** A count column is negative. */
  'negative_count',
  /** mrr is NaN, +Infinity or -Infinity. */
  'non_finite_mrr',
  /** plan is outside the known values ("platinum", "PRO ", ...). */
  'unknown_plan',
  /** customer_id repeats the id of a clean row up to 32 rows earlier in the same row group (both rows count: every copy is quarantined). */
  'duplicate_id',
  /** 1 in the file whose WRONG_TYPE_COLUMN is written as Utf8 instead of Int32 (every row). */
  'wrong_type_column',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** Required columns that get nulls in dirty mode (and so are declared nullable there). */
export const NULL_FAULT_COLUMNS = ['tenure_days', 'plan', 'status', 'seats_purchased'] as const;

/** Count columns that get negative values. */
export const NEGATIVE_FAULT_COLUMNS = [
  'logins_30d',
  'logins_prev_30d',
  'api_calls_30d',
  'seats_active',
  'support_tickets_open',
  'billing_failures_90d',
] as const satisfies readonly IntColumn[];

/** The column written with the wrong Arrow type (Utf8 strings of its numbers) in one file. */
export const WRONG_TYPE_COLUMN = 'tenure_days';

/** Row-level kinds, drawn uniformly for each faulty row. */
const ROW_FAULTS = ['null_required', 'negative_count', 'non_finite_mrr', 'unknown_plan', 'duplicate_id'] as const;

const DUPLICATE_WINDOW = 32;
const NON_FINITE = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY] as const;

/** Which file of a dataset gets the wrong-type column: the last one (file 0 when there is one file). */
export function wrongTypeFileIndex(files: number): number {
  return files - 1;
}

export function emptyFaultCounts(): Record<FaultKind, number> {
  return Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
}

function allValid(rows: number): Uint8Array {
  return new Uint8Array(rows).fill(1);
}

/** The nearest earlier clean row of the same row group within the window, or -1. */
function duplicateSource(faulted: Uint8Array, i: number, back: number, rowGroupRows: number): number {
  const groupStart = i - (i % rowGroupRows);
  const lowest = Math.max(groupStart, i - DUPLICATE_WINDOW);
  for (let j = i - back; j >= lowest; j--) if (!faulted[j]) return j;
  return -1;
}

/**
 * Injects faults into about `rate` of the rows, one fault per faulty row, so the counts equal
 * the rows a validator should quarantine. Duplicates copy the id of a clean row in the same
 * row group (a shard-level check sees both) and count twice: a validator quarantines every copy
 * of a repeated id, and the copied row is taken out of the clean rows it may copy from. Every
 * NULL_FAULT_COLUMNS column gets a validity array even when no null lands in it, so every
 * dirty file declares the same nullability.
 */
export function injectRowFaults(
  columns: CustomerColumns,
  rng: Prng,
  options: { rate: number; rowGroupRows: number },
): Record<FaultKind, number> {
  const counts = emptyFaultCounts();
  const { rows, ints, valid } = columns;
  for (const name of NULL_FAULT_COLUMNS) valid[name] ??= allValid(rows);
  const faulted = new Uint8Array(rows);

  for (let i = 0; i < rows; i++) {
    if (rng.float() >= options.rate) continue;
    let kind: (typeof ROW_FAULTS)[number] = ROW_FAULTS[rng.int(ROW_FAULTS.length)]!;
    let source = -1;
    if (kind === 'duplicate_id') {
      source = duplicateSource(faulted, i, 1 + rng.int(DUPLICATE_WINDOW), options.rowGroupRows);
      // Nothing clean to copy (start of a row group): a null instead keeps the fault rate.
      if (source < 0) kind = 'null_required';
    }
    faulted[i] = 1;
    counts[kind]++;
    if (kind === 'duplicate_id') {
      faulted[source] = 1;
      counts[kind]++;
    }
    switch (kind) {
      case 'null_required': {
        const column = NULL_FAULT_COLUMNS[rng.int(NULL_FAULT_COLUMNS.length)]!;
        valid[column]![i] = 0;
        break;
      }
      case 'negative_count': {
        const column = ints[NEGATIVE_FAULT_COLUMNS[rng.int(NEGATIVE_FAULT_COLUMNS.length)]!];
        column[i] = -(1 + rng.int(Math.max(1, Math.min(column[i]!, 1000))));
        break;
      }
      case 'non_finite_mrr':
        columns.mrr[i] = NON_FINITE[rng.int(NON_FINITE.length)]!;
        break;
      case 'unknown_plan':
        columns.plan[i] = PLANS.length + rng.int(UNKNOWN_PLANS.length);
        break;
      case 'duplicate_id':
        columns.idNumbers[i] = columns.idNumbers[source]!;
        break;
    }
  }
  return counts;
}
