import { z } from 'zod';
import { serializedErrorSchema } from '@churn/errors';
import { bundleManifestSchema, type LoadedBundle } from '@churn/model-bundle';
import { shardOutcomeSchema } from '@churn/warehouse';
import { shardRunSchema } from './scoring-context';
import { shardSpecSchema } from './shard-planner';

/**
 * Messages between the executor and a shard worker thread. Both directions are parsed on
 * arrival: a structured clone keeps shapes, not meanings.
 */
export const loadedBundleSchema = z
  .object({ uri: z.string(), digest: z.string(), manifest: bundleManifestSchema, modelBytes: z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'must be bytes') })
  .strict() satisfies z.ZodType<LoadedBundle, unknown>;

/** What a shard worker thread is started with (workerData). */
export const shardWorkerInitSchema = z
  .object({ bundle: loadedBundleSchema, run: shardRunSchema, intraOpThreads: z.number().int().positive() })
  .strict();
export type ShardWorkerInit = z.infer<typeof shardWorkerInitSchema>;

export const toWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('score'), id: z.number().int(), shard: shardSpecSchema }).strict(),
  z.object({ type: z.literal('close') }).strict(),
  /** Leave now (the thread exits at once, between native calls): a queue worker's abandon. */
  z.object({ type: z.literal('exit') }).strict(),
]);
export type ToWorker = z.infer<typeof toWorkerSchema>;

export const fromWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), device: z.string(), deviceFallbacks: z.array(z.string()), batchRows: z.number().int().positive() }).strict(),
  z.object({ type: z.literal('init-failed'), error: serializedErrorSchema }).strict(),
  z
    .object({
      type: z.literal('progress'),
      id: z.number().int(),
      rows: z.number().int().min(0),
      /** The inference batch that moved it, with the model's time on it. */
      batch: z.object({ rows: z.number().int().min(0), ms: z.number().min(0) }).strict().optional(),
    })
    .strict(),
  z.object({ type: z.literal('done'), id: z.number().int(), outcome: shardOutcomeSchema }).strict(),
  z.object({ type: z.literal('failed'), id: z.number().int(), error: serializedErrorSchema, recycle: z.boolean() }).strict(),
]);
export type FromWorker = z.infer<typeof fromWorkerSchema>;

/**
 * Whether an error left the thread's WebAssembly instance unusable (a trap in the Parquet
 * decoder on damaged bytes): the thread then exits after reporting and is replaced.
 */
export function poisonsThread(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    // WebAssembly.RuntimeError (the lib's TypeScript target has no WebAssembly typings).
    if (e instanceof Error && e.name === 'RuntimeError') return true;
  }
  return false;
}
