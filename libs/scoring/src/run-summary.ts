import { z } from 'zod';
import { DRIFT_STATUSES, driftReportSchema } from '@churn/monitoring';
import { publishRecordSchema, runCostSchema, tableLayout, type PublishRecord, type RunManifest } from '@churn/warehouse';
import type { RunPlan } from './run-plan';

const count = z.number().int().min(0);

/**
 * The run summary: the last line `churn score` prints, the result of a distributed run's commit
 * job (so it crosses Redis) and what `churn status` shows. One shape for both modes.
 */
export const runSummarySchema = z
  .object({
    runId: z.string(),
    attempt: z.number().int().min(1),
    mode: z.enum(['embedded', 'distributed']),
    asOf: z.string(),
    model: z.string(),
    modelDigest: z.string(),
    rowsRead: count,
    rowsScored: count,
    rowsQuarantined: count,
    rowsIneligible: count,
    rowsExplained: count,
    modelEvaluations: count,
    rowsPerSecond: z.number().min(0),
    seconds: z.number().min(0),
    cpuSeconds: z.number().min(0),
    /** Device time of the shards (each charged its share of a shared device); absent for older runs. */
    deviceSeconds: z.number().min(0).optional(),
    /** With a price per device-hour: the run's cost, in total and per million rows read. */
    cost: runCostSchema.optional(),
    shards: count,
    device: z.string(),
    output: z.string(),
    manifest: z.string(),
    quarantineReasons: z.record(z.string(), count),
    bandCounts: z.record(z.string(), count),
    duplicates: z.object({ ids: count, rows: count }).strict(),
    replaced: z.object({ runId: z.string(), attempt: z.number().int(), digest: z.string(), committedAt: z.string() }).strict().optional(),
    /** Drift against the training profile: its worst status and what alerts or warns. */
    drift: z.object({ status: z.enum(DRIFT_STATUSES), alerts: z.array(z.string()), warnings: z.array(z.string()) }).strict().optional(),
    /** Held back from `latest` by the drift gate until `churn release`. */
    held: z.boolean(),
    /** Where the committed run was published (the warehouse) and whether it got there. */
    published: z.array(publishRecordSchema).optional(),
  })
  .strict();
export type RunSummary = z.infer<typeof runSummarySchema>;

/** The summary of a committed run, from its manifest. */
export function summarizeRun(plan: RunPlan, manifest: RunManifest, options: { mode: RunSummary['mode']; seconds: number; published?: readonly PublishRecord[] }): RunSummary {
  const layout = tableLayout(plan.output).partition(manifest.asOf, `${manifest.model.name}-${manifest.model.version}`);
  const seconds = Math.round(options.seconds * 1000) / 1000;
  const parsedDrift = manifest.drift === undefined ? undefined : driftReportSchema.safeParse(manifest.drift);
  const drift = parsedDrift?.success ? parsedDrift.data : undefined;
  return runSummarySchema.parse({
    runId: manifest.runId,
    attempt: manifest.attempt,
    mode: options.mode,
    asOf: manifest.asOf,
    model: `${manifest.model.name}-${manifest.model.version}`,
    modelDigest: manifest.model.digest,
    rowsRead: manifest.rowsRead,
    rowsScored: manifest.rowsScored,
    rowsQuarantined: manifest.rowsQuarantined,
    rowsIneligible: manifest.rowsIneligible,
    rowsExplained: manifest.rowsExplained,
    modelEvaluations: manifest.modelEvaluations,
    rowsPerSecond: Math.round(manifest.rowsRead / Math.max(options.seconds, 1e-3)),
    seconds,
    cpuSeconds: manifest.cpuSeconds,
    ...(manifest.deviceSeconds === undefined ? {} : { deviceSeconds: manifest.deviceSeconds }),
    ...(manifest.cost ? { cost: manifest.cost } : {}),
    shards: manifest.shards.length,
    device: manifest.device,
    output: layout.partitionUri,
    manifest: layout.manifestUri,
    quarantineReasons: manifest.quarantineReasons,
    bandCounts: manifest.bandCounts,
    duplicates: manifest.duplicates,
    ...(manifest.replaced ? { replaced: manifest.replaced } : {}),
    ...(drift ? { drift: { status: drift.status, alerts: drift.alerts, warnings: drift.warnings } } : {}),
    held: manifest.gate?.held ?? false,
    ...(options.published && options.published.length > 0 ? { published: [...options.published] } : {}),
  });
}
