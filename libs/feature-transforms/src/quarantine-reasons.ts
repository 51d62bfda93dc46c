/**
 * Why a row was quarantined: one stable, primary code per row (the `reason_code` column of the
 * quarantine table, and the keys of a run manifest's `quarantineReasons`), so per-code counts
 * add up to the rows quarantined. `reason_detail` carries the human-readable text.
 */
export const QUARANTINE_REASONS = [
  /** The column's Arrow type is not the contract's type (the whole file is affected). */
  'wrong_type',
  /** Null in a column the contract declares required. */
  'null_required',
  /** NaN or ±Infinity in a numeric column. */
  'not_finite',
  'below_min',
  'above_max',
  /** A category the contract does not allow. */
  'unknown_category',
  /** The customer id appears more than once in the partition: every copy is quarantined. */
  'duplicate_id',
  /** The model returned a non-finite score, or one outside [0, 1]. */
  'model_output_invalid',
] as const;

export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

/** One quarantined row's primary problem. */
export interface RowIssue {
  code: QuarantineReason;
  /** The contract column the problem is in (the id column for duplicates; `score` for model output). */
  column: string;
  detail: string;
}
