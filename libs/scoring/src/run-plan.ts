import { z } from 'zod';
import { readParquetFooter, resolvePartition, type DatasetPartition, type ParquetFooter } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import { missingColumns } from '@churn/feature-transforms';
import { canonicalJson, loadBundle, modelId, sha256Hex, type LoadedBundle } from '@churn/model-bundle';
import { normalizeUri, type ObjectInfo, type ObjectStore } from '@churn/object-store';
import { tableLayout } from '@churn/warehouse';
import { runPool } from './async-pool';
import { explainConfigOf, modelTreesOf } from './explain-config';
import {
  executionSettingsSchema,
  invalidArgument,
  resolveRunSettings,
  runSettingsSchema,
  scoringOverridesSchema,
  type RunSettings,
} from './run-settings';
import { planShards, shardSpecSchema } from './shard-planner';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
/** Run ids have no `:` (BullMQ job ids forbid it) and no `/` (they name a staging folder). */
export const runIdSchema = z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only');

/** What a user (CLI flags) or a schedule asks for: the input of planRun, in both modes. */
export const runRequestSchema = z
  .object({
    dataset: z.string().min(1),
    /** Partition to score; the latest when absent. */
    asOf: isoDate.optional(),
    model: z.string().min(1),
    output: z.string().min(1),
    overrides: scoringOverridesSchema.default({}),
    execution: executionSettingsSchema.default({ device: 'auto', replace: false }),
  })
  .strict();
export type RunRequest = z.output<typeof runRequestSchema>;
export type RunRequestInput = z.input<typeof runRequestSchema>;

/** One input file as fingerprinted at planning: a changed file is a different run. */
export const inputFileSchema = z
  .object({
    uri: z.string(),
    size: z.number().int().min(0),
    /** S3 entity tag, when the store has one. */
    etag: z.string().optional(),
    /** Modification time (local files). */
    mtime: z.string().optional(),
    /** Rows, from the footer (known once planned). */
    rows: z.number().int().min(0).optional(),
  })
  .strict();
export type InputFile = z.infer<typeof inputFileSchema>;

/** What determines a run's output: its id is derived from exactly this. */
export const runIdentitySchema = z
  .object({
    partition: z.object({ asOf: isoDate, uri: z.string(), files: z.array(inputFileSchema) }).strict(),
    model: z
      .object({ name: z.string(), version: z.string(), digest: z.string().regex(/^[0-9a-f]{64}$/), modelSha256: z.string().regex(/^[0-9a-f]{64}$/), bundle: z.string() })
      .strict(),
    output: z.string(),
    settings: runSettingsSchema,
  })
  .strict();
export type RunIdentityFields = z.infer<typeof runIdentitySchema>;

/**
 * A run as one value, the same in embedded and distributed mode: its identity (partition and
 * input fingerprint, bundle digest, output, every output-changing setting), the run id derived
 * from it, how it executes, and its shards. It crosses Redis and threads, so it has a schema.
 */
export const runPlanSchema = runIdentitySchema
  .extend({
    formatVersion: z.literal(1),
    runId: runIdSchema,
    /** Request as given (the dataset root, before partition resolution). */
    dataset: z.string(),
    execution: executionSettingsSchema,
    shards: z.array(shardSpecSchema),
    plannedAt: z.string(),
  })
  .strict();
export type RunPlan = z.output<typeof runPlanSchema>;

/** The fingerprint of a listed file: a rewritten file (new ETag or mtime) is another input. */
function fingerprint(file: ObjectInfo): InputFile {
  return { uri: file.uri, size: file.size, ...(file.etag ? { etag: file.etag } : file.lastModified ? { mtime: file.lastModified.toISOString() } : {}) };
}

/**
 * The run id: `<model>-<version>_<asOf>_<hash>`, the hash over what determines the output: the
 * dataset partition, the bundle digest, the output location and every output-changing setting.
 * Readable; the same request twice gives the same id, and a different dataset, output, bundle or
 * setting another. The input files' fingerprint is not part of it: a run whose files were
 * fixed, or re-exported, is a new attempt of the same run (see sameInput).
 */
export function runIdOf(identity: RunIdentityFields): string {
  const { partition, model, output, settings } = identity;
  const hash = sha256Hex(canonicalJson({ partition: partition.uri, model: model.digest, output, settings })).slice(0, 12);
  return `${modelId(model)}_${partition.asOf}_${hash}`;
}

/** Whether two fingerprints name the same input files with the same sizes and versions. */
export function sameInput(a: readonly InputFile[], b: readonly InputFile[]): boolean {
  const key = (f: InputFile) => `${f.uri}|${f.size}|${f.etag ?? ''}|${f.mtime ?? ''}`;
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.length === right.length && left.every((k, i) => k === right[i]);
}

/** A request identified: the bundle loaded, the partition listed, settings resolved. */
export interface IdentifiedRun {
  runId: string;
  identity: RunIdentityFields;
  bundle: LoadedBundle;
  partition: DatasetPartition;
  request: RunRequest;
}

/** A request checked against its bundle: what `schedule set` validates before anything runs. */
export interface ResolvedRequest {
  request: RunRequest;
  bundle: LoadedBundle;
  settings: RunSettings;
  output: string;
}

/**
 * Parses a request, loads and verifies its bundle and resolves every setting against it (the
 * explain policy against the bundle's bands, method, baseline, bad-row limit), with the checks
 * embedded mode uses. No partition is needed: a schedule may be set before its data exists.
 */
export async function resolveRequest(store: ObjectStore, input: RunRequestInput): Promise<ResolvedRequest> {
  const parsed = runRequestSchema.safeParse(input);
  if (!parsed.success) throw invalidArgument('invalid run request', parsed.error);
  const request = parsed.data;
  const output = normalizeUri(request.output).replace(/\/+$/, '');
  tableLayout(output);
  const bundle = await loadBundle(store, request.model);
  const settings: RunSettings = resolveRunSettings(bundle.manifest, request.overrides);
  // The baseline, policy and method must compile for this bundle and model (a profile it lacks,
  // the tree method for a model that is not a tree ensemble, fill null on one that cannot take
  // NaN are refused here, before anything is enqueued).
  explainConfigOf(bundle.manifest, settings.explain, modelTreesOf(bundle.manifest, bundle.modelBytes));
  return { request, bundle, settings, output };
}

/**
 * The cheap half of planning: the request resolved against its bundle, and the partition
 * listed (the latest when no date is given). `churn run` calls it to refuse a bad request
 * before anything reaches Redis, and to know the run id.
 */
export async function identifyRun(store: ObjectStore, input: RunRequestInput): Promise<IdentifiedRun> {
  const { request, bundle, settings, output } = await resolveRequest(store, input);
  const partition = await resolvePartition(store, request.dataset, request.asOf);
  const { manifest } = bundle;
  const identity: RunIdentityFields = {
    partition: { asOf: partition.asOf, uri: partition.partitionUri, files: partition.files.map(fingerprint) },
    model: { name: manifest.name, version: manifest.version, digest: bundle.digest, modelSha256: manifest.model.sha256, bundle: bundle.uri },
    output,
    settings,
  };
  return { runId: runIdOf(identity), identity, bundle, partition, request };
}

/**
 * Reads every file's footer (ranged reads) and refuses the run before anything is scored when a
 * file lacks a contract column or the partition holds no rows.
 */
export async function readRunFooters(store: ObjectStore, run: IdentifiedRun, concurrency = 8): Promise<ParquetFooter[]> {
  const footers = await runPool(run.partition.files, concurrency, (f) => readParquetFooter({ store, uri: f.uri, size: f.size }));
  const contract = run.bundle.manifest.inputContract;
  for (const footer of footers) {
    const missing = missingColumns(footer.schema, contract);
    if (missing.length > 0) {
      throw new ChurnError('CONTRACT_VIOLATION', `${footer.uri} has no column ${missing.map((m) => `"${m}"`).join(', ')} required by the input contract of ${modelId(run.bundle.manifest)}; fix the export or the bundle's inputContract`, {
        details: { file: footer.uri, missingColumns: missing },
      });
    }
  }
  if (footers.every((f) => f.numRows === 0)) throw new ChurnError('INPUT_NOT_FOUND', `partition ${run.partition.partitionUri} holds no rows`, { details: { uri: run.partition.partitionUri } });
  return footers;
}

/** Completes an identified run into its plan: footers read, files' rows recorded, shards cut. */
export function planFromFooters(run: IdentifiedRun, footers: readonly ParquetFooter[], plannedAt = new Date()): RunPlan {
  const rowsOf = new Map(footers.map((f) => [f.uri, f.numRows]));
  return runPlanSchema.parse({
    formatVersion: 1,
    runId: run.runId,
    ...run.identity,
    partition: { ...run.identity.partition, files: run.identity.partition.files.map((f) => ({ ...f, rows: rowsOf.get(f.uri) ?? 0 })) },
    dataset: run.request.dataset,
    execution: run.request.execution,
    shards: planShards(footers, run.identity.settings.shardRows),
    plannedAt: plannedAt.toISOString(),
  });
}

/** planRun: identify, read footers, cut shards. One function for embedded and distributed mode. */
export async function planRun(store: ObjectStore, input: RunRequestInput | IdentifiedRun): Promise<{ plan: RunPlan; bundle: LoadedBundle }> {
  const run = 'identity' in input ? input : await identifyRun(store, input);
  const footers = await readRunFooters(store, run);
  return { plan: planFromFooters(run, footers), bundle: run.bundle };
}

/** Parses a plan that crossed Redis or a thread, naming what is wrong. */
export function parsePlan(data: unknown, where: string): RunPlan {
  const parsed = runPlanSchema.safeParse(data);
  if (!parsed.success) throw invalidArgument(`${where} carries an invalid run plan`, parsed.error);
  const plan = parsed.data;
  const { formatVersion: _v, runId, dataset: _d, execution: _e, shards: _s, plannedAt: _p, ...identity } = plan;
  // The id must follow from the identity: a payload cannot point a run at another output.
  const expected = runIdOf(identity);
  if (expected !== runId) {
    throw new ChurnError('INVALID_ARGUMENT', `${where}: run id ${runId} does not match its plan (which identifies run ${expected}); the payload was altered`, { details: { runId, expected } });
  }
  return plan;
}
