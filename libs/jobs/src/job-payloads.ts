import { z } from 'zod';
import { ChurnError } from '@churn/errors';
import type { ScoringSettings, ShardSpec } from '@churn/scoring';

/**
 * Runtime schemas of what travels through Redis. Job data is validated when a job is taken, so
 * a malformed or stale job fails with a clear message instead of deep inside scoring.
 */

const runId = z.string().regex(/^[^:]+$/, 'must not contain ":" (BullMQ job ids forbid it)');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export const scoringSettingsSchema = z
  .object({
    device: z.enum(['auto', 'cpu', 'cuda', 'webgpu']),
    batchRows: z.number().int().positive().optional(),
    maxBadRowFraction: z.number().min(0).max(1).optional(),
    explain: z
      .object({
        policy: z.string().optional(),
        method: z.enum(['linear', 'exact', 'sampling']).optional(),
        baseline: z.enum(['median', 'mean', 'center']).optional(),
        space: z.enum(['probability', 'logit']).optional(),
        permutations: z.number().int().positive().optional(),
        seed: z.number().int().optional(),
      })
      .optional(),
  })
  .strict() satisfies z.ZodType<ScoringSettings>;

export const shardSpecSchema = z
  .object({
    index: z.number().int().min(0),
    file: z.string().min(1),
    fileSize: z.number().int().min(0),
    rowGroups: z.array(z.number().int().min(0)).min(1),
    firstRow: z.number().int().min(0),
    rows: z.number().int().min(0),
  })
  .strict() satisfies z.ZodType<ShardSpec>;

/** A request to score one as-of partition (the producer plans it into a flow). */
export const runRequestSchema = z
  .object({
    runId,
    dataset: z.string().min(1),
    asOf: isoDate,
    model: z.string().min(1),
    output: z.string().min(1),
    shardRows: z.number().int().positive(),
    settings: scoringSettingsSchema,
    requestedAt: z.string(),
  })
  .strict();

/** What identifies a planned run in every job of its flow. */
const plannedRun = {
  runId,
  asOf: isoDate,
  model: z.string().min(1),
  /** The bundle's model checksum at planning: a bundle changed since is refused. */
  modelSha256: z.string().regex(/^[0-9a-f]{64}$/),
  output: z.string().min(1),
};

/** One shard of a run, for a worker. */
export const shardJobSchema = z
  .object({
    ...plannedRun,
    scoredAt: z.string(),
    shard: shardSpecSchema,
    settings: scoringSettingsSchema,
  })
  .strict();

/** The parent job of a run's flow: commits once every shard child has completed. */
export const commitJobSchema = z
  .object({
    ...plannedRun,
    partition: z.string().min(1),
    inputFiles: z.array(z.object({ uri: z.string(), size: z.number().int().min(0), rows: z.number().int().min(0) }).strict()),
    shards: z.number().int().min(1),
    /** Every shard of the run (so a resumed run can re-enqueue the ones that failed). */
    shardSpecs: z.array(shardSpecSchema),
    /** Results of shards scored before a resume, merged with the children's at commit. */
    priorOutcomes: z.array(z.record(z.string(), z.unknown())).default([]),
    shardRows: z.number().int().positive(),
    settings: scoringSettingsSchema,
    startedAt: z.string(),
  })
  .strict();

export type CommitJob = z.input<typeof commitJobSchema>;

/** What a schedule tick scores: the newest partition, or the partition of the tick's date. */
export const scheduleTickSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _, . and - only'),
    dataset: z.string().min(1),
    model: z.string().min(1),
    output: z.string().min(1),
    asOf: z.enum(['latest', 'tick']),
    shardRows: z.number().int().positive(),
    settings: scoringSettingsSchema,
  })
  .strict();

export type ScheduleTick = z.infer<typeof scheduleTickSchema>;
export type RunRequest = z.infer<typeof runRequestSchema>;
export type ShardJob = z.infer<typeof shardJobSchema>;

/** Validates job data, with the job id and every problem in the message. */
export function parseJobData<T>(schema: z.ZodType<T>, data: unknown, jobId: string | undefined): T {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new ChurnError('INVALID_ARGUMENT', `job ${jobId ?? '(no id)'} carries invalid data: ${problems.join('; ')}`, { details: { jobId, problems } });
}
