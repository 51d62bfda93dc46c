import { z } from 'zod';
import { ChurnError } from '@churn/errors';
import { parsePolicy } from '@churn/explain';
import { BASELINE_KINDS, driftSettingsSchema, EXPLAIN_METHOD_NAMES, explainSettingsSchema, ON_DRIFT_ACTIONS, type BundleManifest } from '@churn/model-bundle';
import { DEVICES } from '@churn/onnx-runner';

/** Explanation choices, from the bundle format's own schema (one source for types, zod and CLI). */
export const EXPLAIN_METHODS = EXPLAIN_METHOD_NAMES;
/** Baselines a run may choose; a bundle may also carry explicit values (resolved as `explicit`). */
export const EXPLAIN_BASELINES = BASELINE_KINDS;
/** A resolved baseline: a kind, or the bundle's explicit values (covered by the bundle digest). */
export const RESOLVED_BASELINES = [...BASELINE_KINDS, 'explicit'] as const;
export const EXPLAIN_SPACES = explainSettingsSchema.shape.space.unwrap().options;

/** Seed of sampling Shapley's permutations (per customer id), unless a run sets its own. */
export const DEFAULT_EXPLAIN_SEED = 20_261_128;
/** Target rows per shard, unless a run sets its own. */
export const DEFAULT_SHARD_ROWS = 131_072;

const positiveInt = z.number().int().positive();

/** A run's overrides of the bundle's explanation settings (command line, job payload). */
export const explainOverridesSchema = z
  .object({
    /** none | all | band:a,b | score>=X | top:P% */
    policy: z.string().min(1).optional(),
    method: z.enum(EXPLAIN_METHODS).optional(),
    baseline: z.enum(EXPLAIN_BASELINES).optional(),
    space: z.enum(EXPLAIN_SPACES).optional(),
    /** Antithetic permutation pairs for sampling Shapley. */
    permutations: positiveInt.optional(),
    seed: z.number().int().optional(),
  })
  .strict();
export type ExplainOverrides = z.infer<typeof explainOverridesSchema>;

/** A run's overrides of the bundle's drift thresholds and gate. */
export const driftOverridesSchema = z
  .object({
    /** What alerting drift does: warn (commit, exit 0), hold (commit, not latest until released), fail (commit nothing). */
    onDrift: z.enum(ON_DRIFT_ACTIONS).optional(),
    psiWarn: z.number().min(0).optional(),
    psiAlert: z.number().min(0).optional(),
  })
  .strict();
export type DriftOverrides = z.infer<typeof driftOverridesSchema>;

/**
 * What a request may set that changes the output. Together with the bundle's defaults these
 * resolve to RunSettings, which are part of the run's identity.
 */
export const scoringOverridesSchema = z
  .object({
    explain: explainOverridesSchema.optional(),
    drift: driftOverridesSchema.optional(),
    /** Overrides the bundle's `inputContract.maxBadRowFraction`. */
    maxBadRowFraction: z.number().min(0).max(1).optional(),
    shardRows: positiveInt.optional(),
  })
  .strict();
export type ScoringOverrides = z.infer<typeof scoringOverridesSchema>;

/** How a run executes: never part of its identity (the same rows come out). */
export const executionSettingsSchema = z
  .object({
    device: z.enum(DEVICES).default('auto'),
    /** Rows per inference batch (default 65,536). */
    batchRows: positiveInt.optional(),
    /** Shards scored at once (threads). */
    concurrency: positiveInt.optional(),
    /** Replace a partition committed by a different bundle digest of the same name and version. */
    replace: z.boolean().default(false),
    /** Price of one device-hour (any currency): the manifest and summary then show the run's cost. */
    pricePerDeviceHour: z.number().min(0).optional(),
    /**
     * The warehouse the commit loads the run into (distributed mode: the producer's commit).
     * It travels in the plan through Redis, so it carries no password: that comes from
     * PGPASSWORD or ~/.pgpass where the commit runs. Where it loads does not change the output,
     * so it is not part of the run id.
     */
    warehouse: z
      .object({
        url: z
          .string()
          .refine((u) => /^postgres(ql)?:\/\//.test(u) && !/^postgres(ql)?:\/\/[^/@]*:[^/@]*@/.test(u) && !/[?&]password=/i.test(u), 'must be a postgres:// URL without a password'),
        schema: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type ExecutionSettings = z.output<typeof executionSettingsSchema>;
export type ExecutionSettingsInput = z.input<typeof executionSettingsSchema>;

/** Every setting that changes a run's output, resolved: the bundle's, with the overrides applied. */
export const runSettingsSchema = z
  .object({
    explain: z
      .object({
        policy: z.string(),
        method: z.enum(EXPLAIN_METHODS),
        baseline: z.enum(RESOLVED_BASELINES),
        space: z.enum(EXPLAIN_SPACES),
        permutations: positiveInt,
        seed: z.number().int(),
      })
      .strict(),
    /** The bundle's drift thresholds and gate, with the run's overrides. */
    drift: driftSettingsSchema.required(),
    maxBadRowFraction: z.number().min(0).max(1),
    shardRows: positiveInt,
  })
  .strict();
export type RunSettings = z.infer<typeof runSettingsSchema>;

/** Problems of a zod parse as one INVALID_ARGUMENT naming each field. */
export function invalidArgument(what: string, error: z.ZodError, settings: string[] = []): ChurnError {
  const problems = error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return new ChurnError('INVALID_ARGUMENT', `${what}: ${problems.join('; ')}`, { details: { problems }, settings });
}

/**
 * Resolves a request's overrides against a bundle, refusing what the bundle cannot honour (an
 * explain policy naming a band the bundle does not have, a method, a bad fraction) with the
 * same checks in embedded mode and before anything is enqueued.
 */
export function resolveRunSettings(manifest: BundleManifest, overrides: ScoringOverrides = {}): RunSettings {
  const parsed = scoringOverridesSchema.safeParse(overrides);
  if (!parsed.success) throw invalidArgument('invalid scoring settings', parsed.error);
  const o = parsed.data;
  const bundle = manifest.explain;
  const explain = {
    policy: o.explain?.policy ?? bundle.policy,
    method: o.explain?.method ?? bundle.method,
    baseline: o.explain?.baseline ?? (typeof bundle.baseline === 'object' ? 'explicit' : bundle.baseline),
    space: o.explain?.space ?? bundle.space,
    permutations: o.explain?.permutations ?? bundle.permutations,
    seed: o.explain?.seed ?? DEFAULT_EXPLAIN_SEED,
  };
  try {
    parsePolicy(explain.policy, manifest.riskBands.map((b) => b.name));
  } catch (error) {
    if (error instanceof ChurnError) throw new ChurnError(error.code, error.message, { cause: error, details: error.details, settings: ['explain'] });
    throw error;
  }
  const drift = { ...manifest.drift, ...Object.fromEntries(Object.entries(o.drift ?? {}).filter(([, v]) => v !== undefined)) };
  if (drift.psiWarn > drift.psiAlert) {
    throw new ChurnError('INVALID_ARGUMENT', `the PSI warn threshold ${drift.psiWarn} is above the alert threshold ${drift.psiAlert}`, { settings: ['psiWarn', 'psiAlert'] });
  }
  return runSettingsSchema.parse({
    explain,
    drift,
    maxBadRowFraction: o.maxBadRowFraction ?? manifest.inputContract.maxBadRowFraction,
    shardRows: o.shardRows ?? DEFAULT_SHARD_ROWS,
  });
}

/**
 * The price per device-hour from `CHURN_PRICE_PER_DEVICE_HOUR` (unset or empty: none), for a
 * process that commits runs whose request named none (the producer).
 */
export function pricePerDeviceHourFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env['CHURN_PRICE_PER_DEVICE_HOUR'];
  if (raw === undefined || raw.trim() === '') return undefined;
  const price = Number(raw);
  if (!Number.isFinite(price) || price < 0) {
    throw new ChurnError('INVALID_ARGUMENT', `CHURN_PRICE_PER_DEVICE_HOUR must be a number of at least 0 (the price of one device-hour), got "${raw}"`, {
      details: { variable: 'CHURN_PRICE_PER_DEVICE_HOUR' },
      settings: ['pricePerDeviceHour'],
    });
  }
  return price;
}
