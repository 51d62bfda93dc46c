import { z } from 'zod';
import { readParquetFooter, readRowGroups, resolvePartition } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import { categoricalColumn, numericColumn } from '@churn/feature-transforms';
import { loadBundle } from '@churn/model-bundle';
import { evaluateScores, evaluationMetricsSchema } from '@churn/monitoring';
import { joinUri, normalizeUri, type ObjectInfo, type ObjectStore } from '@churn/object-store';
import { committedParts, listCommittedRuns, type CommittedRun } from './committed-runs';

/** The sidecar beside a committed partition: `<partition>/_evaluation.json`. */
export const EVALUATION_FILE = '_evaluation.json';

export const runEvaluationSchema = z
  .object({
    formatVersion: z.literal(1),
    runId: z.string(),
    asOf: z.string(),
    model: z.string(),
    /** The evaluated run's commit time: a re-scored partition makes an older evaluation stale. */
    runCommittedAt: z.string(),
    evaluatedAt: z.string(),
    labels: z.object({ uri: z.string(), column: z.string(), files: z.number().int().min(1) }).strict(),
    rowsScored: z.number().int().min(0),
    /** Scored customers found in the labels (the rows the metrics are computed on). */
    rowsJoined: z.number().int().min(0),
    rowsWithoutLabel: z.number().int().min(0),
    metrics: evaluationMetricsSchema,
    /** Held-out AUC recorded in the bundle at training, when known. */
    trainingAuc: z.number().nullable(),
    /** metrics.auc - trainingAuc. */
    aucChange: z.number().nullable(),
  })
  .strict();

export type RunEvaluation = z.output<typeof runEvaluationSchema>;

export interface EvaluateRunOptions {
  scoresUri: string;
  asOf: string;
  /** `name-version`. */
  model: string;
  /** Outcomes: a `.parquet` file, a partition folder, or a dataset root (its latest partition). */
  labelsUri: string;
  /** 0/1 or boolean; default `churned_within_30d`. */
  labelColumn?: string;
  /** Customer id column in the labels; default `customer_id`. */
  idColumn?: string;
  /** Store the sidecar beside the run (default true). */
  write?: boolean;
}

async function labelFiles(store: ObjectStore, uri: string): Promise<ObjectInfo[]> {
  const normalized = normalizeUri(uri);
  if (normalized.endsWith('.parquet')) {
    const head = await store.head(normalized);
    if (!head) throw new ChurnError('INPUT_NOT_FOUND', `labels file ${normalized} does not exist`, { details: { uri: normalized } });
    return [head];
  }
  return (await resolvePartition(store, normalized)).files;
}

async function readColumns(store: ObjectStore, file: ObjectInfo, columns: string[]) {
  const footer = await readParquetFooter({ store, uri: file.uri, size: file.size });
  const present = new Set(footer.schema.fields.map((f) => f.name));
  const missing = columns.filter((c) => !present.has(c));
  if (missing.length > 0) {
    throw new ChurnError('CONTRACT_VIOLATION', `${file.uri} has no column ${missing.map((c) => `"${c}"`).join(', ')}; outcomes need a customer id and a 0/1 label per customer`, {
      details: { file: file.uri, missingColumns: missing },
    });
  }
  return readRowGroups({ store, uri: file.uri, size: file.size, rowGroups: footer.rowGroupRows.map((_, i) => i), columns });
}

/** Customer id -> 0/1 outcome from every labels file; rows whose label is null or not 0/1 are skipped. */
async function readLabels(store: ObjectStore, files: ObjectInfo[], idColumn: string, labelColumn: string): Promise<Map<string, number>> {
  const labels = new Map<string, number>();
  for (const file of files) {
    const table = await readColumns(store, file, [idColumn, labelColumn]);
    const ids = categoricalColumn(table.getChild(idColumn)!);
    const values = numericColumn(table.getChild(labelColumn)!).values;
    for (let r = 0; r < table.numRows; r++) {
      const code = ids.codes[r]!;
      const y = values[r]!;
      if (code >= 0 && (y === 0 || y === 1)) labels.set(ids.categories[code]!, y);
    }
  }
  return labels;
}

async function findRun(store: ObjectStore, options: EvaluateRunOptions): Promise<CommittedRun> {
  const runs = await listCommittedRuns(store, options.scoresUri, { model: options.model });
  const run = runs.find((r) => r.asOf === options.asOf);
  if (!run) {
    const dates = runs.map((r) => r.asOf);
    throw new ChurnError('INPUT_NOT_FOUND', `no committed run of ${options.model} as of ${options.asOf} under ${normalizeUri(options.scoresUri)}${dates.length ? ` (committed as-of dates: ${dates.join(', ')})` : ''}`, {
      details: { scores: options.scoresUri, asOf: options.asOf, model: options.model, committed: dates },
    });
  }
  return run;
}

/**
 * Realized performance of a committed run once outcomes are known: joins the run's scores with
 * labels by customer id, computes AUC, Brier score, calibration and the high band's precision and
 * recall, compares the AUC with the training AUC recorded in the run's bundle, and stores the
 * result beside the run as `_evaluation.json` (schema-checked).
 */
export async function evaluateRun(store: ObjectStore, options: EvaluateRunOptions): Promise<RunEvaluation> {
  const labelColumn = options.labelColumn ?? 'churned_within_30d';
  const run = await findRun(store, options);
  if (!run.bundleUri) throw new ChurnError('INVALID_ARGUMENT', `the manifest of ${run.partitionUri} does not name its model bundle, so its risk bands and training AUC are unknown`);
  const bundle = await loadBundle(store, run.bundleUri);
  const bands = bundle.manifest.riskBands;
  const high = bands[bands.length - 1]!;

  const files = await labelFiles(store, options.labelsUri);
  const labels = await readLabels(store, files, options.idColumn ?? 'customer_id', labelColumn);
  const scores: number[] = [];
  const joined: number[] = [];
  let rowsScored = 0;
  for (const part of await committedParts(store, options.scoresUri, run.partitionUri)) {
    const head = await store.head(part);
    if (!head) throw new ChurnError('INPUT_NOT_FOUND', `committed part ${part} is missing; the partition is damaged: score it again`, { details: { part } });
    const table = await readColumns(store, head, ['customer_id', 'score']);
    const ids = categoricalColumn(table.getChild('customer_id')!);
    const values = numericColumn(table.getChild('score')!).values;
    rowsScored += table.numRows;
    for (let r = 0; r < table.numRows; r++) {
      const y = labels.get(ids.categories[ids.codes[r]!] ?? '');
      if (y === undefined) continue;
      scores.push(values[r]!);
      joined.push(y);
    }
  }
  if (joined.length === 0) {
    throw new ChurnError('INPUT_NOT_FOUND', `none of the ${rowsScored} scored customers of ${run.runId} has a label in ${options.labelsUri} (column "${labelColumn}"); check that the outcomes cover the same customers`, {
      details: { run: run.runId, labels: options.labelsUri, rowsScored },
    });
  }
  const metrics = evaluateScores({ scores, labels: joined, highBand: { name: high.name, minScore: high.minScore } });
  const trainingAuc = bundle.manifest.training?.heldOutAuc ?? null;
  const evaluation = runEvaluationSchema.parse({
    formatVersion: 1,
    runId: run.runId,
    asOf: run.asOf,
    model: run.model,
    runCommittedAt: run.committedAt,
    evaluatedAt: new Date().toISOString(),
    labels: { uri: normalizeUri(options.labelsUri), column: labelColumn, files: files.length },
    rowsScored,
    rowsJoined: joined.length,
    rowsWithoutLabel: rowsScored - joined.length,
    metrics,
    trainingAuc,
    aucChange: trainingAuc === null || metrics.auc === null ? null : metrics.auc - trainingAuc,
  });
  if (options.write !== false) {
    await store.put(joinUri(run.partitionUri, EVALUATION_FILE), `${JSON.stringify(evaluation, null, 2)}\n`, { contentType: 'application/json' });
  }
  return evaluation;
}

/** A run's stored evaluation, or undefined when there is none, it is unreadable, or it is of an earlier commit. */
export async function readRunEvaluation(store: ObjectStore, run: Pick<CommittedRun, 'partitionUri' | 'committedAt'>): Promise<RunEvaluation | undefined> {
  const uri = joinUri(run.partitionUri, EVALUATION_FILE);
  if (!(await store.head(uri))) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(await store.get(uri)));
  } catch {
    return undefined;
  }
  const parsed = runEvaluationSchema.safeParse(json);
  return parsed.success && parsed.data.runCommittedAt === run.committedAt ? parsed.data : undefined;
}
