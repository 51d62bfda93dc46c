import { REASON_COUNT } from './score-table-writer';

/** The analyst views, the same names and columns in `churn query` (DuckDB) and in PostgreSQL. */
export const ANALYST_VIEWS = ['scores_latest', 'score_changes', 'reason_summary'] as const;
export type AnalystView = (typeof ANALYST_VIEWS)[number];

/** What the views are built over, in the engine at hand. */
export interface AnalystViewSources {
  /** The relation of score rows (`scores`, or `"churn".scores`). */
  scores: string;
  /**
   * The runs that count as committed for analysts (held runs excluded), as a relation with
   * `model_name`, `model_version` and `as_of`: at most one per slice.
   */
  liveRuns: string;
  /** Where the views are created (`""` in DuckDB's default schema, `"churn".` in PostgreSQL). */
  prefix: string;
  /** Text-valued segment columns (plan, region): reason_summary counts per value of each. */
  categoricalSegments: readonly string[];
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The views' SQL, written once in the dialect DuckDB and PostgreSQL share, so a query written
 * for one runs on the other and returns the same answer:
 * - `scores_latest`: each model's (name and version) rows from its latest committed run that
 *   the drift gate does not hold.
 * - `score_changes`: per customer scored in two consecutive such runs of the same model name
 *   and version, the previous and current score and band, the delta, whether the band rose
 *   (bands ascend with the score, so a changed band with a higher score rose), and the current
 *   top reason. Runs of different versions are never compared.
 * - `reason_summary`: customers of the latest runs per band, reason (each of reason_1..3
 *   counts; unexplained rows have none) and categorical segment value (`segment` names the
 *   column, `segment_value` its value as text; both null when the model has none).
 */
export function analystViewSql(src: AnalystViewSources): Record<AnalystView, string> {
  const latest = `${src.prefix}scores_latest`;
  const scoresLatest = `SELECT s.* FROM ${src.scores} s
  JOIN (SELECT model_name, model_version, max(as_of) AS as_of FROM ${src.liveRuns} live_runs GROUP BY model_name, model_version) latest
    ON latest.model_name = s.model_name AND latest.model_version = s.model_version AND latest.as_of = s.as_of`;
  const scoreChanges = `WITH live AS (SELECT DISTINCT model_name, model_version, as_of FROM ${src.liveRuns} live_runs),
  ordered AS (SELECT model_name, model_version, as_of, lag(as_of) OVER (PARTITION BY model_name, model_version ORDER BY as_of) AS previous_as_of FROM live)
SELECT c.model_name, c.model_version, c.customer_id, o.previous_as_of, c.as_of, p.run_id AS previous_run_id, c.run_id,
  p.score AS previous_score, c.score, c.score - p.score AS score_delta, p.risk_band AS previous_band, c.risk_band,
  (c.risk_band <> p.risk_band AND c.score > p.score) AS band_rose, c.reason_1 AS top_reason, c.reason_1_text AS top_reason_text
FROM ${src.scores} c
JOIN ordered o ON o.model_name = c.model_name AND o.model_version = c.model_version AND o.as_of = c.as_of
JOIN ${src.scores} p ON p.model_name = c.model_name AND p.model_version = c.model_version AND p.as_of = o.previous_as_of AND p.customer_id = c.customer_id`;
  const segments: (readonly [string, string])[] = src.categoricalSegments.length > 0 ? src.categoricalSegments.map((s) => [`'${s}'`, `CAST(${quote(s)} AS VARCHAR)`] as const) : [['CAST(NULL AS VARCHAR)', 'CAST(NULL AS VARCHAR)']];
  const branches: string[] = [];
  for (let k = 1; k <= REASON_COUNT; k++) {
    for (const [name, value] of segments) {
      branches.push(`SELECT model_name, model_version, as_of, risk_band, reason_${k} AS reason, ${name} AS segment, ${value} AS segment_value FROM ${latest} WHERE reason_${k} IS NOT NULL`);
    }
  }
  const reasonSummary = `SELECT model_name, model_version, as_of, risk_band, reason, segment, segment_value, count(*) AS customers
FROM (${branches.join('\n  UNION ALL ')}) r
GROUP BY model_name, model_version, as_of, risk_band, reason, segment, segment_value`;
  return { scores_latest: scoresLatest, score_changes: scoreChanges, reason_summary: reasonSummary };
}
