import { ChurnError } from '@churn/errors';
import { DRIFT_SCENARIOS, driftScenarioSchema, type DriftScenario } from './drift-scenarios';

/** What to generate. */
export interface SynthOptions {
  /** Total customers (rows) across all files. */
  customers: number;
  /** Snapshot date, YYYY-MM-DD: names the partition (`as_of=<asOf>`); it does not change the rows. */
  asOf: string;
  /** Default 42. Same seed and options give byte-identical files. */
  seed?: number;
  /** Default 4. Customers are split evenly, in contiguous id ranges. */
  files?: number;
  /** Fraction of rows with an injected fault, in [0, 0.5]. Default 0 (clean). */
  dirty?: number;
  /** Rows per Parquet row group. Default 65,536. */
  rowGroupRows?: number;
  /** A documented drift scenario applied to the customers (DRIFT_SCENARIOS); default none. */
  drift?: DriftScenario;
}

/** One written file. */
export interface SynthFileResult {
  uri: string;
  rows: number;
  rowGroups: number;
  /** Injected faults by kind (every kind present, 0 when clean); see FAULT_KINDS. */
  faults: Record<string, number>;
}

/** The written partition. */
export interface SynthResult {
  partitionUri: string;
  files: SynthFileResult[];
  rows: number;
}

export type ResolvedSynthOptions = Required<Omit<SynthOptions, 'drift'>> & Pick<SynthOptions, 'drift'>;

/** Ids are "C" + 9 digits. */
export const MAX_CUSTOMERS = 999_999_999;
/** File names carry a 5-digit part number. */
export const MAX_FILES = 100_000;

function invalid(message: string, details: Record<string, unknown>): ChurnError {
  return new ChurnError('INVALID_ARGUMENT', message, { details });
}

function isRealDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 2024-02-30 over to March; a real date survives the round trip.
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Applies defaults and checks every option, throwing INVALID_ARGUMENT with the fix in the message. */
export function resolveSynthOptions(options: SynthOptions): ResolvedSynthOptions {
  const resolved: ResolvedSynthOptions = {
    customers: options.customers,
    asOf: options.asOf,
    seed: options.seed ?? 42,
    files: options.files ?? 4,
    dirty: options.dirty ?? 0,
    rowGroupRows: options.rowGroupRows ?? 65_536,
    ...(options.drift === undefined ? {} : { drift: options.drift }),
  };
  const { customers, asOf, seed, files, dirty, rowGroupRows } = resolved;
  if (!Number.isInteger(customers) || customers < 1 || customers > MAX_CUSTOMERS) {
    throw invalid(`customers must be an integer from 1 to ${MAX_CUSTOMERS}, got ${String(customers)}`, { customers });
  }
  if (typeof asOf !== 'string' || !isRealDate(asOf)) {
    throw invalid(`asOf must be a real date written YYYY-MM-DD (e.g. 2024-06-30), got ${JSON.stringify(asOf)}`, { asOf });
  }
  if (!Number.isSafeInteger(seed)) {
    throw invalid(`seed must be an integer, got ${String(seed)}`, { seed });
  }
  if (!Number.isInteger(files) || files < 1 || files > Math.min(customers, MAX_FILES)) {
    throw invalid(
      `files must be an integer from 1 to the number of customers (${customers}) and at most ${MAX_FILES}, got ${String(files)}`,
      { files, customers },
    );
  }
  if (typeof dirty !== 'number' || !(dirty >= 0 && dirty <= 0.5)) {
    throw invalid(`dirty must be a fraction of rows from 0 to 0.5, got ${String(dirty)}`, { dirty });
  }
  if (resolved.drift !== undefined && !driftScenarioSchema.safeParse(resolved.drift).success) {
    throw invalid(`drift must be one of ${DRIFT_SCENARIOS.join(', ')}, got ${JSON.stringify(resolved.drift)}`, { drift: resolved.drift });
  }
  if (!Number.isInteger(rowGroupRows) || rowGroupRows < 1) {
    throw invalid(`rowGroupRows must be a positive integer, got ${String(rowGroupRows)}`, { rowGroupRows });
  }
  return resolved;
}

/** Rows [start, end) of file `fileIndex`: contiguous, sizes differing by at most one. */
export function fileRowRange(customers: number, files: number, fileIndex: number): { start: number; end: number } {
  return {
    start: Math.floor((fileIndex * customers) / files),
    end: Math.floor(((fileIndex + 1) * customers) / files),
  };
}

/** `part-00000.parquet`, ... */
export function partFileName(fileIndex: number): string {
  return `part-${String(fileIndex).padStart(5, '0')}.parquet`;
}
