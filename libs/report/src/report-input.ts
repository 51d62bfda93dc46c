import { z } from 'zod';
import { ChurnError } from '@churn/errors';
import { loadBundle } from '@churn/model-bundle';
import { DRIFT_STATUSES, driftReportSchema } from '@churn/monitoring';
import { normalizeUri, type ObjectStore } from '@churn/object-store';
import { queryScores, SCORE_BINS, SCORE_COLUMNS } from '@churn/warehouse';
import { listCommittedRuns, type CommittedRun } from './committed-runs';
import { readRunEvaluation } from './run-evaluation';

const count = z.number().int().min(0);
const segmentValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** Everything a run report shows, as one JSON value (rendered by renderReportHtml). */
export const reportInputSchema = z
  .object({
    formatVersion: z.literal(1),
    generatedAt: z.string(),
    scoresUri: z.string(),
    run: z
      .object({
        runId: z.string(),
        asOf: z.string(),
        model: z.string(),
        partitionUri: z.string(),
        device: z.string().nullable(),
        startedAt: z.string(),
        committedAt: z.string(),
        rowsRead: count,
        rowsScored: count,
        rowsQuarantined: count,
        rowsIneligible: count,
        rowsPerSecond: count,
      })
      .strict(),
    bands: z.array(z.object({ name: z.string(), rows: count }).strict()),
    /** The run's score histogram and the training reference's in the same bins (null when unknown). */
    score: z.object({ edges: z.array(z.number()), counts: z.array(count), referenceCounts: z.array(count).nullable() }).strict(),
    drift: driftReportSchema.nullable(),
    evaluation: z.object({ auc: z.number().nullable(), trainingAuc: z.number().nullable(), brier: z.number(), rowsJoined: count, evaluatedAt: z.string() }).strict().nullable(),
    highBand: z.string(),
    /** Reasons (among each customer's top three) of the high band, most frequent first. */
    topReasons: z.array(z.object({ reason: z.string(), customers: count, example: z.string().nullable() }).strict()),
    quarantine: z.array(z.object({ reason: z.string(), rows: count }).strict()),
    segmentColumns: z.array(z.string()),
    topCustomers: z.array(
      z.object({ customerId: z.string(), score: z.number(), riskBand: z.string(), reasons: z.array(z.string()), segments: z.record(z.string(), segmentValue) }).strict(),
    ),
    history: z.array(
      z
        .object({
          runId: z.string(),
          asOf: z.string(),
          committedAt: z.string(),
          rowsRead: count,
          rowsScored: count,
          rowsPerSecond: count,
          driftStatus: z.enum(DRIFT_STATUSES).nullable(),
          alerts: z.array(z.string()),
          maxPsi: z.number().nullable(),
          auc: z.number().nullable(),
        })
        .strict(),
    ),
  })
  .strict();

export type ReportInput = z.output<typeof reportInputSchema>;

export interface ReportOptions {
  scoresUri: string;
  /** Default: the latest committed as-of date of the model. */
  asOf?: string;
  /** `name-version`; default the only model committed for that date. */
  model?: string;
  /** Runs of the model in the history (this one and earlier), default 10. */
  historyRuns?: number;
  /** Rows in the top-customers table, default 25. */
  topCustomers?: number;
}

/** Score-table columns that are not segments: the contract's and the explanation columns. */
const NOT_SEGMENT = /^(contrib_.*|reason_\d+(_text)?|explained|base_value|model_digest)$/;
const KNOWN: ReadonlySet<string> = new Set(SCORE_COLUMNS);
const sql = (s: string) => `'${s.replace(/'/g, "''")}'`;

function chooseRun(runs: CommittedRun[], options: ReportOptions): CommittedRun {
  const root = normalizeUri(options.scoresUri);
  const candidates = runs.filter((r) => (!options.model || r.model === options.model) && (!options.asOf || r.asOf === options.asOf));
  const latest = options.asOf ?? candidates.at(-1)?.asOf;
  const onDate = candidates.filter((r) => r.asOf === latest);
  if (onDate.length === 1) return onDate[0]!;
  if (onDate.length === 0) {
    throw new ChurnError('INPUT_NOT_FOUND', `no committed run${options.model ? ` of ${options.model}` : ''}${options.asOf ? ` as of ${options.asOf}` : ''} under ${root}`, {
      details: { scores: root, asOf: options.asOf, model: options.model, committed: runs.map((r) => r.runId) },
    });
  }
  throw new ChurnError('INVALID_ARGUMENT', `several models were committed as of ${latest} under ${root} (${onDate.map((r) => r.model).join(', ')}); name one`, {
    details: { models: onDate.map((r) => r.model) },
  });
}

async function referenceScoreCounts(store: ObjectStore, run: CommittedRun): Promise<number[] | null> {
  if (!run.bundleUri) return null;
  try {
    const score = (await loadBundle(store, run.bundleUri)).manifest.reference?.score;
    return score && score.counts.length === SCORE_BINS ? score.counts : null;
  } catch {
    return null; // the report still renders without the reference curve
  }
}

function scoreSection(run: CommittedRun, referenceCounts: number[] | null): ReportInput['score'] {
  if (run.drift) return { edges: run.drift.score.edges, counts: run.drift.score.counts, referenceCounts: run.drift.score.referenceCounts };
  const edges = Array.from({ length: SCORE_BINS + 1 }, (_, k) => k / SCORE_BINS);
  return { edges, counts: run.scoreHistogram ?? new Array<number>(SCORE_BINS).fill(0), referenceCounts };
}

/**
 * Builds a run report's input from a score table: the run's manifest (bands, score histogram,
 * drift, quarantine), the score rows (top reasons of the high band, highest-risk customers with
 * their segment columns) and the model's earlier runs with their evaluations.
 */
export async function buildReportInput(store: ObjectStore, options: ReportOptions): Promise<ReportInput> {
  const runs = await listCommittedRuns(store, options.scoresUri);
  const run = chooseRun(runs, options);
  const root = normalizeUri(options.scoresUri);
  const where = `as_of = DATE ${sql(run.asOf)} AND model_name = ${sql(run.modelName)} AND model_version = ${sql(run.modelVersion)}`;
  const columns = (await queryScores(store, root, 'DESCRIBE SELECT * FROM scores')).rows.map((r) => String(r['column_name']));
  const segmentColumns = columns.filter((c) => !KNOWN.has(c) && !NOT_SEGMENT.test(c));
  const bands = Object.entries(run.bandCounts).map(([name, rows]) => ({ name, rows }));
  const highBand = bands.at(-1)?.name ?? 'high';
  const reasonCount = [1, 2, 3].filter((k) => columns.includes(`reason_${k}`) && columns.includes(`reason_${k}_text`));

  const topReasons = reasonCount.length
    ? (
        await queryScores(
          store,
          root,
          `SELECT reason, count(*) AS customers, min(text) AS example FROM (${reasonCount
            .map((k) => `SELECT reason_${k} AS reason, reason_${k}_text AS text FROM scores WHERE ${where} AND risk_band = ${sql(highBand)}`)
            .join(' UNION ALL ')}) WHERE reason IS NOT NULL GROUP BY reason ORDER BY customers DESC, reason LIMIT 12`,
        )
      ).rows.map((r) => ({ reason: String(r['reason']), customers: Number(r['customers']), example: r['example'] === null ? null : String(r['example']) }))
    : [];
  const picked = ['customer_id', 'score', 'risk_band', ...reasonCount.map((k) => `reason_${k}_text`), ...segmentColumns];
  const top = await queryScores(store, root, `SELECT ${picked.map((c) => `"${c}"`).join(', ')} FROM scores WHERE ${where} ORDER BY score DESC, customer_id LIMIT ${options.topCustomers ?? 25}`);
  const topCustomers = top.rows.map((r) => ({
    customerId: String(r['customer_id']),
    score: Number(r['score']),
    riskBand: String(r['risk_band']),
    reasons: reasonCount.map((k) => r[`reason_${k}_text`]).filter((t): t is string => typeof t === 'string'),
    segments: Object.fromEntries(segmentColumns.map((c) => [c, segmentValue.catch(null).parse(r[c] ?? null)])),
  }));

  const earlier = runs.filter((r) => r.model === run.model && r.asOf <= run.asOf).slice(-(options.historyRuns ?? 10));
  const history = await Promise.all(
    earlier.map(async (r) => {
      const evaluation = await readRunEvaluation(store, r);
      const psis = r.drift ? [...r.drift.features.map((f) => f.psi), r.drift.score.psi].filter((p): p is number => p !== null) : [];
      return {
        runId: r.runId,
        asOf: r.asOf,
        committedAt: r.committedAt,
        rowsRead: r.rowsRead,
        rowsScored: r.rowsScored,
        rowsPerSecond: r.rowsPerSecond,
        driftStatus: r.drift?.status ?? null,
        alerts: r.drift?.alerts ?? [],
        maxPsi: psis.length ? Math.max(...psis) : null,
        auc: evaluation?.metrics.auc ?? null,
      };
    }),
  );
  const evaluation = await readRunEvaluation(store, run);

  return reportInputSchema.parse({
    formatVersion: 1,
    generatedAt: new Date().toISOString(),
    scoresUri: root,
    run: {
      runId: run.runId,
      asOf: run.asOf,
      model: run.model,
      partitionUri: run.partitionUri,
      device: run.device ?? null,
      startedAt: run.startedAt,
      committedAt: run.committedAt,
      rowsRead: run.rowsRead,
      rowsScored: run.rowsScored,
      rowsQuarantined: run.rowsQuarantined,
      rowsIneligible: run.rowsIneligible,
      rowsPerSecond: run.rowsPerSecond,
    },
    bands,
    score: scoreSection(run, run.drift ? null : await referenceScoreCounts(store, run)),
    drift: run.drift ?? null,
    evaluation: evaluation
      ? { auc: evaluation.metrics.auc, trainingAuc: evaluation.trainingAuc, brier: evaluation.metrics.brier, rowsJoined: evaluation.rowsJoined, evaluatedAt: evaluation.evaluatedAt }
      : null,
    highBand,
    topReasons,
    quarantine: Object.entries(run.quarantineReasons)
      .map(([reason, rows]) => ({ reason, rows }))
      .sort((a, b) => b.rows - a.rows || a.reason.localeCompare(b.reason)),
    segmentColumns,
    topCustomers,
    history,
  });
}
