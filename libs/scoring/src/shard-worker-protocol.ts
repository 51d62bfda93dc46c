import { ChurnError, type ChurnErrorCode } from '@churn/errors';
import type { LoadedBundle } from '@churn/model-bundle';
import type { ShardOutcome } from '@churn/warehouse';
import type { ExplainSummary } from './explain-config';
import type { ScoringSettings } from './scoring-settings';
import type { ShardSpec } from './shard-planner';

/** What a shard worker thread is started with (structured-cloned into the thread). */
export interface ShardWorkerInit {
  bundle: LoadedBundle;
  run: { runId: string; asOf: string; modelName: string; modelVersion: string; scoredAt: string };
  output: string;
  settings: ScoringSettings;
  intraOpThreads: number;
}

export type ToWorker = { type: 'score'; id: number; shard: ShardSpec } | { type: 'close' };

export interface SerializedError {
  name: string;
  message: string;
  code?: ChurnErrorCode;
  details?: Record<string, unknown>;
  stack?: string;
}

export type FromWorker =
  | { type: 'ready'; device: string; batchRows: number; maxBadRowFraction: number; explain: ExplainSummary }
  | { type: 'init-failed'; error: SerializedError }
  | { type: 'done'; id: number; outcome: ShardOutcome }
  | { type: 'failed'; id: number; error: SerializedError };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof ChurnError) return { name: error.name, message: error.message, code: error.code, details: error.details, stack: error.stack };
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

/** Rebuilds an error from a worker so callers see the same ChurnError code as in-process. */
export function deserializeError(error: SerializedError): Error {
  if (error.code) return new ChurnError(error.code, error.message, { details: error.details ?? {} });
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  if (error.stack) rebuilt.stack = error.stack;
  return rebuilt;
}
