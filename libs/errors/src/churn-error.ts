/**
 * Every error the system raises on purpose is a ChurnError with a typed code, so callers
 * (the CLI's exit path, the queue worker's retry policy) can decide by kind, not by message.
 */
export type ChurnErrorCode =
  /** A URI, flag or argument the user gave is malformed or unknown. */
  | 'INVALID_ARGUMENT'
  /** An input location or partition does not exist or holds no data files. */
  | 'INPUT_NOT_FOUND'
  /** A file is not Parquet, is truncated or cannot be decoded. */
  | 'CORRUPT_INPUT'
  /** The input breaks its contract: missing column, or too many bad rows in a shard. */
  | 'CONTRACT_VIOLATION'
  /** A model bundle is malformed, incomplete or fails its checksum. */
  | 'INVALID_BUNDLE'
  /** The ONNX graph does not match what the bundle says about it. */
  | 'MODEL_MISMATCH'
  /** The requested execution provider is unknown or unavailable. */
  | 'DEVICE_UNAVAILABLE'
  /** Reading or writing storage failed (permissions, network, disk). Usually retryable. */
  | 'IO_ERROR'
  /** The commit step found the run's outputs incomplete or inconsistent. */
  | 'COMMIT_FAILED';

/** Codes caused by the data or configuration: retrying the same work cannot succeed. */
const PERMANENT: ReadonlySet<ChurnErrorCode> = new Set<ChurnErrorCode>([
  'INVALID_ARGUMENT',
  'INPUT_NOT_FOUND',
  'CORRUPT_INPUT',
  'CONTRACT_VIOLATION',
  'INVALID_BUNDLE',
  'MODEL_MISMATCH',
  'DEVICE_UNAVAILABLE',
]);

export interface ChurnErrorOptions {
  cause?: unknown;
  /** Extra structured context (file, rowGroup, column, row, ...), shown in logs and JSON output. */
  details?: Record<string, unknown>;
}

export class ChurnError extends Error {
  override readonly name = 'ChurnError';
  readonly code: ChurnErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ChurnErrorCode, message: string, options: ChurnErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** True when the same work retried later could succeed (I/O), false for bad input or config. */
  get retryable(): boolean {
    return !PERMANENT.has(this.code);
  }
}

export function isChurnError(value: unknown, code?: ChurnErrorCode): value is ChurnError {
  return value instanceof ChurnError && (code === undefined || value.code === code);
}

/** A one-line description of any thrown value, including the ChurnError code when there is one. */
export function describeError(error: unknown): string {
  if (error instanceof ChurnError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
