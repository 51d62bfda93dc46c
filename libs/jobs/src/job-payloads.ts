import { z } from 'zod';
import { ChurnError, serializedErrorSchema } from '@churn/errors';
import { runIdSchema, runPlanSchema, runRequestSchema, shardSpecSchema } from '@churn/scoring';
import { shardOutcomeSchema } from '@churn/warehouse';

/**
 * Runtime schemas of what travels through Redis. Job data is validated when a job is taken, so
 * a malformed, stale or forged job fails with a clear message instead of deep inside scoring.
 */
const attempt = z.number().int().min(1);

/** A request to plan one attempt of a run (the producer plans it into a flow). */
export const planJobSchema = z
  .object({ runId: runIdSchema, attempt, request: runRequestSchema, requestedAt: z.string() })
  .strict();
export type PlanJob = z.infer<typeof planJobSchema>;

/** The parent job of a run attempt's flow: holds the plan, commits once every shard child is done. */
export const commitJobSchema = z
  .object({
    plan: runPlanSchema,
    attempt,
    /** Results of shards finished by earlier attempts (a resumed run), merged at commit. */
    priorOutcomes: z.array(shardOutcomeSchema).default([]),
    startedAt: z.string(),
  })
  .strict();
export type CommitJob = z.input<typeof commitJobSchema>;

/**
 * One shard of a run attempt. It names only the run, the attempt and the shard: the worker reads
 * the plan from the flow's parent (commit) job and checks the shard against it, so a forged
 * shard job cannot point a worker at other files.
 */
export const shardJobSchema = z.object({ runId: runIdSchema, attempt, shard: shardSpecSchema }).strict();
export type ShardJob = z.infer<typeof shardJobSchema>;

/** What a job reports as its progress: rows so far, and why it failed (the code as data). */
export const jobProgressSchema = z
  .object({ rowsDone: z.number().int().min(0).default(0), rowsTotal: z.number().int().min(0).default(0), failure: serializedErrorSchema.optional() })
  .strict();
export type JobProgress = z.infer<typeof jobProgressSchema>;

export const SCHEDULE_AS_OF = ['latest', 'tick'] as const;

/** What a schedule tick scores: the newest partition, or the partition of the tick's date. */
export const scheduleTickSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _, . and - only'),
    asOf: z.enum(SCHEDULE_AS_OF),
    request: runRequestSchema.omit({ asOf: true }),
  })
  .strict();
export type ScheduleTick = z.infer<typeof scheduleTickSchema>;

/** Validates job data, with the job id and every problem in the message. */
export function parseJobData<T>(schema: z.ZodType<T>, data: unknown, jobId: string | undefined): T {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new ChurnError('INVALID_ARGUMENT', `job ${jobId ?? '(no id)'} carries invalid data: ${problems.join('; ')}`, { details: { jobId, problems } });
}
