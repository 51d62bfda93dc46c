import { z } from 'zod';
import { ChurnError } from '@churn/errors';

/** Scored rows per score bin: 20 equal bins over [0, 1]. */
export const SCORE_BINS = 20;

const count = z.number().int().min(0);
const counts = z.record(z.string(), count);

/** Row accounting: every input row is scored, quarantined or ineligible. */
export const rowCountsSchema = z.object({ rowsRead: count, rowsScored: count, rowsQuarantined: count, rowsIneligible: count });
export type RowCounts = z.infer<typeof rowCountsSchema>;

/**
 * What scoring one shard produced, as it crosses a worker thread and Redis. It carries counts
 * and statistics only: where the shard's staged files are follows from the run's plan, so a
 * commit never trusts a location from a payload, and every count is checked against the files.
 */
export const shardOutcomeSchema = rowCountsSchema
  .extend({
    index: count,
    /** The run attempt that scored it (a resumed run keeps earlier attempts' finished shards). */
    attempt: z.number().int().min(1),
    /** Execution provider the shard ran on. */
    device: z.string(),
    file: z.string(),
    rowGroups: z.array(count),
    /** First row of the shard within its file. */
    firstRow: count,
    /** Primary quarantine code -> rows; adds up to rowsQuarantined. */
    quarantineReasons: counts,
    bandCounts: counts,
    scoreHistogram: z.array(z.number().min(0)).length(SCORE_BINS),
    scoreSum: z.number(),
    /** Scored rows that carry explanations, and the model evaluations spent on them. */
    rowsExplained: count,
    modelEvaluations: count,
    timingsMs: z.record(z.string(), z.number()),
    /** CPU time the shard took on its thread (user + system), in milliseconds. */
    cpuMs: z.number().min(0).default(0),
    /**
     * Device time the shard used, in milliseconds: its wall time on its scoring thread divided by
     * the shards sharing that device in the process at once (a worker's threads share one GPU).
     * Absent in manifests written before it was recorded.
     */
    deviceMs: z.number().min(0).optional(),
    /** The shard's drift histograms (monitoring's schema; the commit merges and checks them). */
    drift: z.unknown().optional(),
  })
  .strict();
export type ShardOutcome = z.output<typeof shardOutcomeSchema>;
export type ShardOutcomeInput = z.input<typeof shardOutcomeSchema>;

const inputFileSchema = z
  .object({ uri: z.string(), size: count, rows: count, etag: z.string().optional(), mtime: z.string().optional() })
  .strict();

/** A published part, named relative to the folder of the manifest that lists it. */
/**
 * What a run cost, from its device time and a price per device-hour (an execution setting, in
 * whatever currency the price is in): the total and per million input rows read.
 */
export const runCostSchema = z
  .object({
    pricePerDeviceHour: z.number().min(0),
    total: z.number().min(0),
    perMillionRows: z.number().min(0),
  })
  .strict();
export type RunCost = z.infer<typeof runCostSchema>;

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** The cost of `deviceSeconds` at `pricePerDeviceHour`, in total and per million of `rowsRead`. */
export function runCostOf(deviceSeconds: number, rowsRead: number, pricePerDeviceHour: number): RunCost {
  const total = (deviceSeconds / 3600) * pricePerDeviceHour;
  return { pricePerDeviceHour, total: round6(total), perMillionRows: rowsRead > 0 ? round6((total * 1e6) / rowsRead) : 0 };
}

const publishedPartSchema = z
  .object({ name: z.string().regex(/^[^/]+\.parquet$/, 'must be a file name in the same folder'), rows: count, shard: z.number().int().min(0).optional() })
  .strict();

export const MANIFEST_FORMAT_VERSION = 2;

export const runManifestSchema = rowCountsSchema
  .extend({
    formatVersion: z.literal(MANIFEST_FORMAT_VERSION),
    runId: z.string(),
    attempt: z.number().int().min(1),
    asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    model: z
      .object({
        name: z.string(),
        version: z.string(),
        /** sha256 over canonical bundle.json and model.onnx: the `model_digest` column. */
        digest: z.string().regex(/^[0-9a-f]{64}$/),
        modelSha256: z.string().regex(/^[0-9a-f]{64}$/),
        bundle: z.string(),
      })
      .strict(),
    input: z.object({ partition: z.string(), files: z.array(inputFileSchema) }).strict(),
    /** Score parts, relative to this manifest's folder. */
    parts: z.array(publishedPartSchema),
    /** Quarantine parts, relative to the partition's folder under the quarantine root. */
    quarantine: z.object({ parts: z.array(publishedPartSchema) }).strict(),
    device: z.string(),
    startedAt: z.string(),
    committedAt: z.string(),
    /** Every setting that changes the output, as planned (part of the run id). */
    settings: z.record(z.string(), z.unknown()),
    /** How it ran (mode, threads, batch rows): not part of the run id. */
    execution: z.record(z.string(), z.unknown()).default({}),
    quarantineReasons: counts,
    bandCounts: counts,
    score: z.object({ mean: z.number(), histogram: z.array(z.number()) }).strict(),
    rowsExplained: count,
    modelEvaluations: count,
    /** Customer ids found in more than one shard at commit (every copy quarantined). */
    duplicates: z.object({ ids: count, rows: count }).strict().default({ ids: 0, rows: 0 }),
    cpuSeconds: z.number().min(0).default(0),
    /** Device time of the run: the shards' deviceMs added up (absent in older manifests). */
    deviceSeconds: z.number().min(0).optional(),
    /** Cost of the run, when a price per device-hour was configured. */
    cost: runCostSchema.optional(),
    /** Drift against the bundle's reference profile (monitoring's drift report), when it has one. */
    drift: z.unknown().optional(),
    /** The drift gate: what alerting drift does, and whether this run was held back from `latest`. */
    gate: z.object({ onDrift: z.enum(['warn', 'hold', 'fail']), held: z.boolean() }).strict().optional(),
    /** The committed version this run replaced, when it replaced one. */
    replaced: z.object({ runId: z.string(), attempt: z.number().int(), digest: z.string(), committedAt: z.string() }).strict().optional(),
    shards: z.array(shardOutcomeSchema),
  })
  .strict();
export type RunManifest = z.output<typeof runManifestSchema>;

/** Parses a manifest's text, naming the file and the problem when it is not one of ours. */
export function parseRunManifest(text: string, uri: string): RunManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ChurnError('CORRUPT_INPUT', `${uri} is not valid JSON (${(cause as Error).message}); the manifest is truncated or damaged: score the partition again`, { cause, details: { uri } });
  }
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if (version !== MANIFEST_FORMAT_VERSION) {
    throw new ChurnError(
      'CORRUPT_INPUT',
      `${uri} is not a churn-scoring run manifest of format ${MANIFEST_FORMAT_VERSION} (formatVersion ${JSON.stringify(version ?? null)}); score the partition again with this version`,
      { details: { uri, formatVersion: version ?? null } },
    );
  }
  const parsed = runManifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ChurnError('CORRUPT_INPUT', `${uri} is not a valid run manifest: ${problems.join('; ')}`, { details: { uri, problems } });
  }
  return parsed.data;
}

/** Totals of shard outcomes, as the manifest records them. */
export type OutcomeTotals = Pick<RunManifest, keyof RowCounts | 'quarantineReasons' | 'bandCounts' | 'score' | 'rowsExplained' | 'modelEvaluations' | 'cpuSeconds'> & { deviceSeconds: number };

/** Adds shard outcomes into run totals. */
export function mergeOutcomes(shards: readonly ShardOutcome[]): OutcomeTotals {
  const totals = { rowsRead: 0, rowsScored: 0, rowsQuarantined: 0, rowsIneligible: 0 };
  const quarantineReasons: Record<string, number> = {};
  const bandCounts: Record<string, number> = {};
  const histogram = new Array<number>(SCORE_BINS).fill(0);
  let scoreSum = 0;
  let rowsExplained = 0;
  let modelEvaluations = 0;
  let cpuMs = 0;
  let deviceMs = 0;
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  };
  for (const s of shards) {
    totals.rowsRead += s.rowsRead;
    totals.rowsScored += s.rowsScored;
    totals.rowsQuarantined += s.rowsQuarantined;
    totals.rowsIneligible += s.rowsIneligible;
    add(quarantineReasons, s.quarantineReasons);
    add(bandCounts, s.bandCounts);
    s.scoreHistogram.forEach((c, i) => (histogram[i] = (histogram[i] ?? 0) + c));
    scoreSum += s.scoreSum;
    rowsExplained += s.rowsExplained;
    modelEvaluations += s.modelEvaluations;
    cpuMs += s.cpuMs;
    deviceMs += s.deviceMs ?? 0;
  }
  return {
    ...totals,
    quarantineReasons,
    bandCounts,
    score: { mean: totals.rowsScored ? scoreSum / totals.rowsScored : 0, histogram },
    rowsExplained,
    modelEvaluations,
    cpuSeconds: Math.round(cpuMs) / 1000,
    deviceSeconds: Math.round(deviceMs) / 1000,
  };
}
