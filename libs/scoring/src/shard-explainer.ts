import { explainRows, reasonRenderer, resolveExplanationMethod, rowKeysOf, selectRows, topReasons, type ModelEvaluator, type ReasonValue } from '@churn/explain';
import { arrowTypeMatches, stringValues, type ColumnCache } from '@churn/feature-transforms';
import { REASON_COUNT, type ExplanationColumns } from '@churn/warehouse';
import type { ScoringContext } from './scoring-context';

/** What scoring produced for a shard's scored rows, which explanation builds on. */
export interface ScoredRows {
  columns: ColumnCache;
  /** Table row of each scored row. */
  rows: Int32Array;
  /** The model input of the scored rows (rows x features, row-major). */
  matrix: Float32Array;
  scores: Float32Array;
  bandCodes: Int32Array;
}

export interface ShardExplanation {
  /** Absent under policy none. */
  columns?: ExplanationColumns;
  rowsExplained: number;
  evaluations: number;
}

/**
 * Explains the scored rows the policy selects: Shapley contributions per feature or group
 * (perturbed rows evaluated by the same ONNX session in large batches), the top actionable
 * reasons pushing risk up, and their texts rendered with the customer's own values.
 */
export async function explainShard(ctx: ScoringContext, scored: ScoredRows): Promise<ShardExplanation> {
  const { explain, bundle, pipeline } = ctx;
  const { manifest } = bundle;
  const players = explain.players;
  const n = scored.scores.length;
  const P = players.length;
  const F = pipeline.featureIds.length;
  // Policy none: no columns at all (the score table writes its explanation columns as nulls).
  if (explain.policy.kind === 'none') return { rowsExplained: 0, evaluations: 0 };
  const columns: ExplanationColumns = {
    explained: new Uint8Array(n),
    baseValue: 0,
    contributions: new Float32Array(n * P),
    reasons: Array.from({ length: REASON_COUNT }, () => new Array<string | null>(n).fill(null)),
    reasonTexts: Array.from({ length: REASON_COUNT }, () => new Array<string | null>(n).fill(null)),
  };
  if (n === 0) return { columns, rowsExplained: 0, evaluations: 0 };

  const bandNames = manifest.riskBands.map((b) => b.name);
  const mask = selectRows(explain.policy, scored.scores, scored.bandCodes, bandNames, manifest.reference);
  const picked: number[] = [];
  for (let i = 0; i < n; i++) if (mask[i]) picked.push(i);
  const m = picked.length;
  if (m === 0) return { columns, rowsExplained: 0, evaluations: 0 };

  const features = new Float32Array(m * F);
  const scores = new Float32Array(m);
  const tableRows = new Int32Array(m);
  picked.forEach((i, j) => {
    features.set(scored.matrix.subarray(i * F, (i + 1) * F), j * F);
    scores[j] = scored.scores[i]!;
    tableRows[j] = scored.rows[i]!;
  });
  const evaluator: ModelEvaluator = {
    featureCount: F,
    evaluate: (matrix, rows) => ctx.scorer.score(matrix, rows),
    ...(explain.trees ? { trees: explain.trees } : {}),
    ...(explain.network ? { network: explain.network } : {}),
  };
  // Ids are decoded only for the explained rows (scored rows always have one), and only for a
  // method that seeds rows by their id (sampling).
  const rowKeys = resolveExplanationMethod(explain.method, evaluator).usesRowKeys
    ? rowKeysOf(stringValues(scored.columns.vector(manifest.inputContract.idColumn), tableRows).map(String))
    : new Uint32Array(0);
  const result = await explainRows(
    evaluator,
    { features, rows: m, scores, rowKeys, players, baseline: explain.baseline },
    { method: explain.method, space: explain.space, permutations: explain.permutations, seed: explain.seed },
  );
  columns.baseValue = result.baseValue;
  picked.forEach((i, j) => {
    columns.explained[i] = 1;
    columns.contributions.set(result.contributions.subarray(j * P, (j + 1) * P), i * P);
  });

  // Reason texts read the customer's raw values and the features' readable values.
  const top = topReasons(result.contributions, m, players, REASON_COUNT);
  const featureIndex = new Map(pipeline.featureIds.map((id, f) => [id, f]));
  // One reader per placeholder name, resolved on first use (a table's getChild builds a vector
  // per call): every later lookup is an array read.
  type Reader = (j: number) => ReasonValue;
  const readers = new Map<string, Reader>();
  const readerOf = (name: string): Reader => {
    const f = featureIndex.get(name);
    if (f !== undefined) {
      const values = pipeline.displayValues(scored.columns, tableRows, f);
      return (j) => values[j];
    }
    const vector = scored.columns.table.getChild(name);
    if (!vector) return () => undefined;
    // Decoded column views are cached per shard.
    if (arrowTypeMatches(vector.type, 'number') || arrowTypeMatches(vector.type, 'boolean')) {
      const column = scored.columns.numericColumn(name);
      return (j) => {
        const row = tableRows[j]!;
        return column.isNull[row] ? null : column.values[row];
      };
    }
    const { codes, categories } = scored.columns.categoricalColumn(name);
    return (j) => {
      const code = codes[tableRows[j]!]!;
      return code < 0 ? null : categories[code];
    };
  };
  // One renderer per player, its placeholders resolved once; a row is then a few array reads.
  const renderers: ((j: number) => string)[] = [];
  const readerFor = (name: string): Reader => {
    let reader = readers.get(name);
    if (!reader) readers.set(name, (reader = readerOf(name)));
    return reader;
  };
  picked.forEach((i, j) => {
    for (let k = 0; k < REASON_COUNT; k++) {
      const p = top[j * REASON_COUNT + k]!;
      if (p < 0) continue;
      const player = players[p]!;
      columns.reasons[k]![i] = player.id;
      const render = (renderers[p] ??= reasonRenderer(player.reason ?? player.id, readerFor));
      columns.reasonTexts[k]![i] = render(j);
    }
  });
  return { columns, rowsExplained: m, evaluations: result.evaluations };
}
