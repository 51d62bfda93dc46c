import { readFileSync } from 'node:fs';
import { readParquetFooter, readRowGroups } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import { riskBandIndex } from '@churn/model-bundle';
import { ColumnCache, eligibleMask, idKeys, missingColumns, validateContract, type ContractIssues, type QuarantineReason } from '@churn/feature-transforms';
import { createDriftAccumulator } from '@churn/monitoring';
import { SCORE_BINS, buildQuarantineTable, buildScoreTable, categoryColumn, encodeIdKeys, nullableNumericColumn, writeTablePart, type ShardOutcome } from '@churn/warehouse';
import type { ScoringContext } from './scoring-context';
import { explainShard } from './shard-explainer';
import type { ShardSpec } from './shard-planner';

function where(shard: ShardSpec): string {
  const groups = shard.rowGroups.length === 1 ? `row group ${shard.rowGroups[0]}` : `row groups ${shard.rowGroups[0]}-${shard.rowGroups.at(-1)}`;
  return `shard ${shard.index} (${shard.file}, ${groups})`;
}

/** The most frequent problems, each with an example of what it looks like. */
function topReasons(counts: Map<string, number>, examples: Map<string, string>, limit = 3): string {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([reason, n]) => `${reason} (${n} rows${examples.has(reason) ? `, e.g. ${examples.get(reason)}` : ''})`)
    .join('; ');
}

/** CPU time of the calling thread in ms (Linux: /proc/thread-self), else of the process. */
function threadCpuMs(): number {
  try {
    const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  }
}

/** A shard whose bad rows (contract breaks plus invalid model output) exceed the run's limit fails. */
function checkBadFraction(ctx: ScoringContext, shard: ShardSpec, issues: ContractIssues, invalidOutputs: number, rowsRead: number): void {
  const bad = issues.badRows.size + invalidOutputs;
  if (rowsRead === 0 || bad / rowsRead <= ctx.maxBadRowFraction) return;
  const pct = ((100 * bad) / rowsRead).toFixed(1);
  const limit = `${(100 * ctx.maxBadRowFraction).toFixed(1)}%`;
  const reasons = new Map(issues.byColumn);
  if (invalidOutputs > 0) reasons.set('score: model_output_invalid', invalidOutputs);
  const details = { file: shard.file, rowGroups: shard.rowGroups, badRows: bad, rowsRead, reasons: Object.fromEntries(issues.counts), invalidOutputs };
  if (invalidOutputs > issues.badRows.size) {
    throw new ChurnError(
      'INVALID_MODEL_OUTPUT',
      `${where(shard)}: the model returned non-finite scores or scores outside [0, 1] for ${invalidOutputs} of ${rowsRead} rows; with ${issues.badRows.size} contract breaks that is ${pct}% bad rows, over the limit of ${limit}. Check the model export and its output kind (probability or logit) in bundle.json`,
      { details, settings: ['maxBadRowFraction'] },
    );
  }
  throw new ChurnError(
    'CONTRACT_VIOLATION',
    `${where(shard)}: ${bad} of ${rowsRead} rows (${pct}%) break the input contract, over the limit of ${limit}. Top reasons: ${topReasons(reasons, issues.examples)}. This usually means an upstream schema or export change: fix the input, or raise the bad-row limit if these rows are expected`,
    { details, settings: ['maxBadRowFraction'] },
  );
}

/** Keeps the entries of `rows`, `matrix` and `scores` whose score is a probability. */
function dropInvalidScores(rows: Int32Array, matrix: Float32Array, scores: Float32Array, width: number) {
  const invalid: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!(s >= 0 && s <= 1)) invalid.push(i);
  }
  if (invalid.length === 0) return { rows, matrix, scores, invalid: [] as { row: number; score: number }[] };
  const drop = new Set(invalid);
  const keep = Int32Array.from({ length: scores.length - invalid.length });
  let k = 0;
  for (let i = 0; i < scores.length; i++) if (!drop.has(i)) keep[k++] = i;
  const keptMatrix = new Float32Array(keep.length * width);
  keep.forEach((i, j) => keptMatrix.set(matrix.subarray(i * width, (i + 1) * width), j * width));
  return {
    rows: Int32Array.from(keep, (i) => rows[i]!),
    matrix: keptMatrix,
    scores: Float32Array.from(keep, (i) => scores[i]!),
    invalid: invalid.map((i) => ({ row: rows[i]!, score: scores[i]! })),
  };
}

/** The bundle's segment columns for the scored rows, typed as the input contract types them. */
function segmentColumns(ctx: ScoringContext, columns: ColumnCache, rows: Int32Array) {
  const contract = new Map(ctx.bundle.manifest.inputContract.columns.map((c) => [c.name, c]));
  return ctx.bundle.manifest.segments.map((name) => {
    const type = contract.get(name)!.type;
    if (type === 'string') {
      // Segments are low-cardinality (plan, region): the codes the validator already has,
      // written as a dictionary column, instead of a copy of every row's bytes.
      const { codes, categories } = columns.categoricalColumn(name);
      const picked = new Int32Array(rows.length);
      for (let i = 0; i < rows.length; i++) picked[i] = codes[rows[i]!]!;
      return { name, vector: categoryColumn(picked, categories) };
    }
    const { values, isNull } = columns.numericColumn(name);
    const picked = new Float64Array(rows.length);
    const nulls = new Uint8Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      picked[i] = values[rows[i]!]!;
      nulls[i] = isNull[rows[i]!]!;
    }
    return { name, vector: nullableNumericColumn(type, picked, nulls) };
  });
}

// The per-row loops of a shard live in small functions of their own: V8 optimises a hot loop
// together with the function around it, and scoreShard's phases, compiled one loop at a time
// while later ones had no type feedback yet, were optimised 26 times per 1M-row run.

/** Contract-valid rows in order, split into eligible (to score) and ineligible. */
function splitRows(rowsRead: number, badRows: ReadonlyMap<number, unknown>, eligible: Uint8Array) {
  const selected = new Int32Array(rowsRead);
  const ineligible = new Int32Array(rowsRead);
  let s = 0;
  let k = 0;
  const bad = new Uint8Array(rowsRead);
  for (const r of badRows.keys()) bad[r] = 1;
  for (let r = 0; r < rowsRead; r++) {
    if (bad[r]) continue;
    if (eligible[r]) selected[s++] = r;
    else ineligible[k++] = r;
  }
  return { selected: selected.subarray(0, s), ineligible: ineligible.subarray(0, k) };
}

/** Each score's band code, rows per band, the score histogram and the scores' sum. */
function bandScores(riskBands: Parameters<typeof riskBandIndex>[0], bandCount: number, scores: Float32Array) {
  const n = scores.length;
  const bandCodes = new Int32Array(n);
  const perBand = new Float64Array(bandCount);
  const histogram = new Float64Array(SCORE_BINS);
  let scoreSum = 0;
  for (let i = 0; i < n; i++) {
    const score = scores[i]!;
    const code = riskBandIndex(riskBands, score);
    bandCodes[i] = code;
    perBand[code]! += 1;
    histogram[Math.min(SCORE_BINS - 1, Math.floor(score * SCORE_BINS))]! += 1;
    scoreSum += score;
  }
  return { bandCodes, perBand, histogram, scoreSum };
}

/** Scored and ineligible rows (each ascending) merged in row order; kind 1 marks an ineligible row. */
function mergeRows(scored: Int32Array, ineligible: Int32Array) {
  const total = scored.length + ineligible.length;
  const valid = new Int32Array(total);
  const kinds = new Uint8Array(total);
  let a = 0;
  let b = 0;
  let k = 0;
  while (a < scored.length || b < ineligible.length) {
    if (b >= ineligible.length || (a < scored.length && scored[a]! < ineligible[b]!)) {
      valid[k++] = scored[a++]!;
    } else {
      kinds[k] = 1;
      valid[k++] = ineligible[b++]!;
    }
  }
  return { valid, kinds };
}

/** One inference batch: its rows and how long the model took on it. */
export interface InferenceBatch {
  rows: number;
  ms: number;
}

/**
 * Called while a shard scores: rows done so far in this shard, after each inference batch (with
 * that batch's rows and inference time) and once at the end (without).
 */
export type ShardProgress = (rowsDone: number, batch?: InferenceBatch) => void;

/**
 * Scores one shard: ranged reads of its row groups and needed columns, contract validation
 * (bad rows to quarantine, with one primary code each), eligibility, features, batched
 * inference (scores that are not probabilities are quarantined, never written), explanations,
 * and the shard's staged score part, quarantine part and id keys written under the run's
 * staging prefix. Returns counts and partial statistics; rows read = scored + quarantined +
 * ineligible, always.
 */
export async function scoreShard(ctx: ScoringContext, shard: ShardSpec, onProgress?: ShardProgress): Promise<ShardOutcome> {
  const cpuStart = threadCpuMs();
  const timingsMs: Record<string, number> = {};
  let mark = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timingsMs[name] = Math.round((now - mark) * 10) / 10;
    mark = now;
  };
  const { manifest } = ctx.bundle;
  const contract = manifest.inputContract;

  const source = { store: ctx.store, uri: shard.file, size: shard.fileSize };
  const footer = await readParquetFooter(source);
  const missing = missingColumns(footer.schema, contract);
  if (missing.length > 0) {
    throw new ChurnError('CONTRACT_VIOLATION', `${shard.file} has no column ${missing.map((m) => `"${m}"`).join(', ')} required by the input contract of ${manifest.name}-${manifest.version}; fix the export or the bundle's inputContract`, {
      details: { file: shard.file, missingColumns: missing },
    });
  }
  const table = await readRowGroups({ ...source, rowGroups: shard.rowGroups, columns: ctx.columns });
  const rowsRead = table.numRows;
  lap('readMs');

  const columns = new ColumnCache(table);
  const issues = validateContract(columns, contract, { rowOffset: shard.firstRow });
  checkBadFraction(ctx, shard, issues, 0, rowsRead);
  const { selected: selectedRows, ineligible: ineligibleRows } = splitRows(rowsRead, issues.badRows, eligibleMask(columns, manifest.eligibility));
  const selectedCount = selectedRows.length;
  const ineligible = ineligibleRows.length;
  lap('validateMs');

  const featureCount = ctx.pipeline.featureIds.length;
  const matrix = new Float32Array(selectedCount * featureCount);
  // Drift histograms fill while features are computed, in the reference profile's own bins.
  const drift = manifest.reference ? createDriftAccumulator(manifest.reference, ctx.pipeline.featureIds) : undefined;
  ctx.pipeline.transform(columns, selectedRows, matrix, drift);
  lap('transformMs');

  let rowsDone = 0;
  const raw = await ctx.scorer.score(matrix, selectedCount, (rows, ms) => {
    rowsDone += rows;
    // Rows read so far: rows ahead of the last scored one count as done too.
    onProgress?.(Math.min(rowsRead, Math.round((rowsDone / Math.max(1, selectedCount)) * rowsRead)), { rows, ms });
  });
  lap('inferMs');
  const scored = dropInvalidScores(selectedRows, matrix, raw, featureCount);
  checkBadFraction(ctx, shard, issues, scored.invalid.length, rowsRead);
  const { rows, scores } = scored;
  const scoredCount = rows.length;
  drift?.addScores(scores, scoredCount);

  const { bandCodes, perBand, histogram, scoreSum } = bandScores(manifest.riskBands, ctx.bandNames.length, scores);
  const bandCounts: Record<string, number> = Object.fromEntries(ctx.bandNames.map((name, code) => [name, perBand[code]!]));
  lap('bandMs');
  const explanation = await explainShard(ctx, { columns, rows, matrix: scored.matrix, scores, bandCodes });
  lap('explainMs');

  const scoreTable = buildScoreTable(
    ctx.run,
    { customerIds: columns.takeStrings(contract.idColumn, rows), scores, bandCodes, bandNames: ctx.bandNames, segments: segmentColumns(ctx, columns, rows) },
    ctx.explain.players.map((p) => p.id),
    explanation.columns,
  );
  const quarantined: { row: number; code: QuarantineReason; detail: string }[] = [
    ...[...issues.badRows.entries()].map(([row, issue]) => ({ row, code: issue.code, detail: issue.detail })),
    ...scored.invalid.map(({ row, score }) => ({ row, code: 'model_output_invalid' as const, detail: `score: the model returned ${Number.isNaN(score) ? 'NaN' : score}, not a probability in [0, 1]` })),
  ].sort((a, b) => a.row - b.row);
  const quarantineRows = Int32Array.from(quarantined, (q) => q.row);
  const quarantineTable = buildQuarantineTable(ctx.run, {
    customerIds: columns.takeStrings(contract.idColumn, quarantineRows),
    sourceFiles: quarantined.map(() => shard.file),
    rowIndices: Int32Array.from(quarantined, (q) => shard.firstRow + q.row),
    reasonCodes: quarantined.map((q) => q.code),
    reasonDetails: quarantined.map((q) => q.detail),
  });
  const quarantineReasons: Record<string, number> = {};
  for (const q of quarantined) quarantineReasons[q.code] = (quarantineReasons[q.code] ?? 0) + 1;

  // Keys of every contract-valid row's id (scored or ineligible), so the commit can find ids
  // that appear in more than one shard.
  const { valid, kinds } = mergeRows(rows, ineligibleRows);
  const ids = encodeIdKeys({ keys: idKeys(columns.vector(contract.idColumn), valid), rows: Uint32Array.from(valid), kinds });
  await Promise.all([
    writeTablePart(ctx.store, ctx.staging.partUri(shard.index), scoreTable),
    writeTablePart(ctx.store, ctx.staging.quarantineUri(shard.index), quarantineTable),
    ctx.store.put(ctx.staging.idsUri(shard.index), ids),
  ]);
  lap('writeMs');
  const totalMs = Object.values(timingsMs).reduce((a, b) => a + b, 0);
  timingsMs['totalMs'] = totalMs;
  onProgress?.(rowsRead);

  return {
    index: shard.index,
    attempt: ctx.attempt,
    device: ctx.device,
    file: shard.file,
    rowGroups: shard.rowGroups,
    firstRow: shard.firstRow,
    rowsRead,
    rowsScored: scoredCount,
    rowsQuarantined: quarantined.length,
    rowsIneligible: ineligible,
    quarantineReasons,
    bandCounts,
    scoreHistogram: Array.from(histogram),
    scoreSum,
    rowsExplained: explanation.rowsExplained,
    modelEvaluations: explanation.evaluations,
    timingsMs,
    cpuMs: Math.max(0, threadCpuMs() - cpuStart),
    // The device is shared by the shards the process scores at once: each is charged its share.
    deviceMs: Math.round((totalMs / ctx.deviceSlots) * 10) / 10,
    ...(drift ? { drift: drift.toJSON() } : {}),
  };
}
