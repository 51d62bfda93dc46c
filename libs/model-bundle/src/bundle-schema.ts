import { z } from 'zod';

/**
 * The runtime schema of `bundle.json`. Types below are inferred from it, so the documented
 * format (docs/bundle-format.md), the validator and the code cannot drift apart.
 */

const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'must be snake_case: lower-case letters, digits and _, starting with a letter');

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

export const transformSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('numeric'), column: z.string().min(1) }).strict(),
  z
    .object({
      kind: z.literal('ratio'),
      numerator: z.string().min(1),
      denominator: z.string().min(1),
      /** Added to numerator and denominator (smoothing, e.g. 1 for login trends). */
      offset: finite.default(0),
    })
    .strict(),
  z.object({ kind: z.literal('one_hot'), column: z.string().min(1), category: z.string() }).strict(),
  z.object({ kind: z.literal('is_null'), column: z.string().min(1) }).strict(),
]);

export const featureSchema = z
  .object({
    /** Model feature id; also names the `contrib_<id>` column when not grouped. */
    id: identifier,
    description: z.string().optional(),
    transform: transformSchema,
    /**
     * Value used when the transform yields null or NaN (missing source, zero denominator). `null`
     * keeps the value missing: it reaches the model as NaN, so a tree ensemble's learned missing-
     * value directions apply. Only models that take NaN (tree ensembles) may declare it.
     */
    fill: finite.nullable().default(0),
    /** Clamp to [min, max] before scaling. */
    clip: z.tuple([finite, finite]).optional(),
    /** Apply log(1 + x) after clipping (heavy-tailed counts). */
    log1p: z.boolean().default(false),
    /** Standardisation: (x - center) / scale. */
    center: finite.default(0),
    scale: finite.refine((v) => v !== 0, 'must not be 0').default(1),
    /** Reason text template: `{column}` is a raw input value, `{column:pct}` a percentage, `{value}` the feature value. */
    reason: z.string().optional(),
    /** Only actionable features are offered as reasons; others still get contributions. */
    actionable: z.boolean().default(false),
    /** Features sharing a group (e.g. one-hot plan columns) are explained as one. */
    group: identifier.optional(),
  })
  .strict();

export const contractColumnSchema = z
  .object({
    name: z.string().min(1),
    type: z.enum(['string', 'integer', 'number', 'boolean']),
    nullable: z.boolean().default(false),
    min: finite.optional(),
    max: finite.optional(),
    allowed: z.array(z.string()).min(1).optional(),
  })
  .strict();

export const inputContractSchema = z
  .object({
    idColumn: z.string().min(1),
    columns: z.array(contractColumnSchema).min(1),
    /** A shard with a larger fraction of contract-breaking rows fails instead of being scored. */
    maxBadRowFraction: z.number().min(0).max(1).default(0.05),
    /** Quarantine the second and later rows of an id seen earlier in the same shard. */
    rejectDuplicateIds: z.boolean().default(true),
  })
  .strict();

export const eligibilitySchema = z
  .object({ column: z.string().min(1), in: z.array(z.string()).min(1) })
  .strict();

export const riskBandSchema = z.object({ name: identifier, minScore: z.number().min(0).max(1) }).strict();

/**
 * Explanation methods (docs/explanations.md): `auto` picks, per model, the best method that
 * supports it (`tree` for tree ensembles, else `sampling`); the others name one method.
 */
export const EXPLAIN_METHOD_NAMES = ['auto', 'tree', 'exact', 'sampling', 'linear'] as const;
export type ExplainMethodName = (typeof EXPLAIN_METHOD_NAMES)[number];

/** Baselines computed from the bundle: reference medians or means, or the standardisation centers. */
export const BASELINE_KINDS = ['median', 'mean', 'center'] as const;
export type BaselineKind = (typeof BASELINE_KINDS)[number];

/**
 * Per-feature values as the feature's transform yields them (before fill, clip, log1p and
 * standardisation, like a customer's value); `null` is a missing value (filled like one).
 */
export const baselineValuesSchema = z.record(z.string(), finite.nullable());

/**
 * An explicit baseline: one customer (`values`), or a background sample of customers whose
 * Shapley values are averaged (interventional Shapley against a background distribution).
 */
export const explicitBaselineSchema = z
  .object({
    values: baselineValuesSchema.optional(),
    /** At most 64 rows: every row multiplies the cost of an explanation. */
    background: z.array(baselineValuesSchema).min(1).max(64).optional(),
  })
  .strict()
  .refine((b) => (b.values === undefined) !== (b.background === undefined), 'give either "values" (one baseline customer) or "background" (a sample of them), not both');

export const explainSettingsSchema = z
  .object({
    method: z.enum(EXPLAIN_METHOD_NAMES).default('auto'),
    /**
     * The reference customer contributions are measured against: the reference profile's per-
     * feature `median` or `mean`, `center` (each feature's standardisation center), which
     * needs no reference profile, or explicit values (`{ "values": {...} }` or
     * `{ "background": [{...}, ...] }`).
     */
    baseline: z.union([z.enum(BASELINE_KINDS), explicitBaselineSchema]).default('median'),
    space: z.enum(['probability', 'logit']).default('probability'),
    /** Which rows get explanations: none | all | band:a,b | score>=X | top:P% */
    policy: z.string().default('band:medium,high'),
    /** Antithetic permutation pairs for sampling Shapley; 8 measured in docs/explanations.md. */
    permutations: z.number().int().min(1).default(8),
  })
  .strict();

/** What a run does when drift alerts: commit as usual, commit but hold it back from `latest`, or commit nothing. */
export const ON_DRIFT_ACTIONS = ['warn', 'hold', 'fail'] as const;
export type OnDriftAction = (typeof ON_DRIFT_ACTIONS)[number];

/**
 * Drift thresholds of the model (docs/monitoring.md). PSI thresholds apply per feature and to the
 * score; null-rate thresholds to the absolute change of a feature's null rate; quarantine-rate
 * thresholds to the run's quarantine rate above the reference's. A run may override them.
 */
export const driftSettingsSchema = z
  .object({
    psiWarn: z.number().min(0).default(0.1),
    psiAlert: z.number().min(0).default(0.25),
    nullRateWarn: z.number().min(0).max(1).default(0.05),
    nullRateAlert: z.number().min(0).max(1).default(0.2),
    quarantineRateWarn: z.number().min(0).max(1).default(0.01),
    quarantineRateAlert: z.number().min(0).max(1).default(0.03),
    onDrift: z.enum(ON_DRIFT_ACTIONS).default('warn'),
  })
  .strict();

export const histogramSchema = z
  .object({
    /** Bin edges, ascending; counts has edges.length - 1 entries. */
    edges: z.array(finite).min(2),
    counts: z.array(z.number().int().min(0)),
  })
  .strict();

export const featureProfileSchema = histogramSchema
  .extend({ nullRate: z.number().min(0).max(1), mean: finite, median: finite, min: finite, max: finite })
  .strict();

export const referenceProfileSchema = z
  .object({
    rows: z.number().int().min(1),
    /** Share of the profiled snapshot's rows that broke the input contract (drift compares a run's rate to it). */
    quarantineRate: z.number().min(0).max(1).optional(),
    features: z.record(z.string(), featureProfileSchema),
    score: histogramSchema.extend({
      /** Score quantiles at 0%, 1%, ..., 100% (101 values). */
      quantiles: z.array(finite).length(101),
      mean: finite,
    }),
  })
  .strict();

export const modelSectionSchema = z
  .object({
    file: z.string().min(1).default('model.onnx'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
    input: z.object({ name: z.string().min(1), elementType: z.literal('float32').default('float32') }).strict(),
    output: z
      .object({
        name: z.string().min(1),
        /** Column of the output tensor holding P(churn) (1 for a [N,2] classifier output). */
        probabilityIndex: z.number().int().min(0).default(0),
        /** `logit` outputs are passed through a sigmoid. */
        kind: z.enum(['probability', 'logit']).default('probability'),
      })
      .strict(),
  })
  .strict();

export const trainingInfoSchema = z
  .object({
    kind: z.string(),
    trainedAt: z.string(),
    dataset: z.string().optional(),
    seed: z.number().int().optional(),
    trainRows: z.number().int().min(0),
    heldOutRows: z.number().int().min(0),
    heldOutAuc: z.number().min(0).max(1),
    /** AUC of the data-generating process's true probabilities on the same held-out rows. */
    trueAuc: z.number().min(0).max(1).optional(),
  })
  .strict();

export const bundleManifestSchema = z
  .object({
    formatVersion: z.literal(1),
    name: identifier.or(z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be lower-case letters, digits and -')),
    version: z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.+-]*$/, 'must be a version like 1.0.0 (no / or :)'),
    description: z.string().optional(),
    model: modelSectionSchema,
    features: z.array(featureSchema).min(1),
    inputContract: inputContractSchema,
    eligibility: eligibilitySchema.optional(),
    /**
     * Snapshot columns copied into every score row (e.g. plan, mrr, region, account owner), so
     * analysts filter by segment without joining the snapshot. Each must be a contract column.
     */
    segments: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be a snake_case column name')).default([]),
    riskBands: z.array(riskBandSchema).min(1),
    explain: explainSettingsSchema.default(() => explainSettingsSchema.parse({})),
    drift: driftSettingsSchema.default(() => driftSettingsSchema.parse({})),
    reference: referenceProfileSchema.optional(),
    training: trainingInfoSchema.optional(),
  })
  .strict();

/** bundle.json as written by a person or a tool (defaults may be omitted). */
export type BundleManifestInput = z.input<typeof bundleManifestSchema>;
/** bundle.json after validation, with every default filled in. */
export type BundleManifest = z.output<typeof bundleManifestSchema>;
export type FeatureSpec = BundleManifest['features'][number];
export type FeatureTransform = FeatureSpec['transform'];
export type InputContract = BundleManifest['inputContract'];
export type ContractColumn = InputContract['columns'][number];
export type EligibilityRule = z.output<typeof eligibilitySchema>;
export type RiskBand = z.output<typeof riskBandSchema>;
export type ExplainSettings = BundleManifest['explain'];
export type ExplicitBaseline = z.output<typeof explicitBaselineSchema>;
export type DriftSettings = z.output<typeof driftSettingsSchema>;
export type ReferenceProfile = z.output<typeof referenceProfileSchema>;
export type FeatureProfile = z.output<typeof featureProfileSchema>;
export type TrainingInfo = z.output<typeof trainingInfoSchema>;
