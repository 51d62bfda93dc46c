import { z } from 'zod';
import { ERROR_CODES, ERROR_POLICY, type ChurnErrorCode, type RetryPolicy } from './error-policy';

export interface ChurnErrorOptions {
  cause?: unknown;
  /** Extra structured context (file, rowGroup, column, row, ...), shown in logs and JSON output. */
  details?: Record<string, unknown>;
  /**
   * Settings the user can change to get past this error, by their settings name (e.g.
   * `maxBadRowFraction`). Libraries never name command-line flags; the CLI renders these as the
   * flags of the command that ran, when it has them.
   */
  settings?: readonly string[];
}

/**
 * Every error the system raises on purpose is a ChurnError with a typed code, so callers
 * (the CLI's exit path, the queue worker's retry policy) decide by kind, not by message. What a
 * code means for exit codes and retries is in one table (error-policy.ts).
 */
export class ChurnError extends Error {
  override readonly name = 'ChurnError';
  readonly code: ChurnErrorCode;
  readonly details: Record<string, unknown>;
  readonly settings: readonly string[];

  constructor(code: ChurnErrorCode, message: string, options: ChurnErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
    this.settings = options.settings ?? [];
  }

  get retry(): RetryPolicy {
    return ERROR_POLICY[this.code].retry;
  }

  /** True when the same work retried later could succeed (I/O), false for bad input or config. */
  get retryable(): boolean {
    return this.retry !== 'never';
  }

  get exitCode(): number {
    return ERROR_POLICY[this.code].exitCode;
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

/**
 * An error as data: what crosses a worker thread, Redis or a file. The code survives as a field,
 * never as text to parse back.
 */
export const serializedErrorSchema = z
  .object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).default({}),
    settings: z.array(z.string()).default([]),
    stack: z.string().optional(),
  })
  .strict();
export type SerializedError = z.output<typeof serializedErrorSchema>;

/** Any thrown value as data; errors that are not ChurnErrors become `INTERNAL`. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof ChurnError) {
    return { code: error.code, message: error.message, details: error.details, settings: [...error.settings], ...(error.stack ? { stack: error.stack } : {}) };
  }
  if (error instanceof Error) return { code: 'INTERNAL', message: error.message, details: { name: error.name }, settings: [], ...(error.stack ? { stack: error.stack } : {}) };
  return { code: 'INTERNAL', message: String(error), details: {}, settings: [] };
}

/** Rebuilds a ChurnError from its data form, so callers see the same code as in-process. */
export function deserializeError(data: unknown): ChurnError {
  const parsed = serializedErrorSchema.safeParse(data);
  if (!parsed.success) return new ChurnError('INTERNAL', `malformed error record: ${JSON.stringify(data)}`);
  const { code, message, details, settings, stack } = parsed.data;
  const error = new ChurnError(code, message, { details, settings });
  if (stack) error.stack = stack;
  return error;
}

/** A ChurnError for anything thrown: ChurnErrors as they are, anything else as `INTERNAL`. */
export function toChurnError(error: unknown): ChurnError {
  if (error instanceof ChurnError) return error;
  // A ChurnError from another bundle's copy of this module (the worker and producer apps are
  // bundled apart from the CLI that loads them): same shape, another class. Keep its code.
  if (error instanceof Error && error.name === 'ChurnError') {
    const { code, details, settings } = error as Error & Partial<Record<'code' | 'details' | 'settings', unknown>>;
    const parsed = serializedErrorSchema.safeParse({ code, message: error.message, details, settings });
    if (parsed.success) {
      const adopted = new ChurnError(parsed.data.code, parsed.data.message, { cause: error.cause, details: parsed.data.details, settings: parsed.data.settings });
      if (error.stack) adopted.stack = error.stack;
      return adopted;
    }
  }
  return new ChurnError('INTERNAL', error instanceof Error ? error.message : String(error), { cause: error });
}
