import { readParquetFooter, readRowGroups } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import { riskBandIndex } from '@churn/model-bundle';
import { ColumnCache, eligibleMask, missingColumns, validateContract, type ContractIssues } from '@churn/feature-transforms';
import {
  SCORE_BINS,
  buildQuarantineTable,
  buildScoreTable,
  writeTablePart,
  type ShardOutcome,
} from '@churn/warehouse';
import type { ScoringContext } from './scoring-context';
import { explainShard } from './shard-explainer';
import type { ShardSpec } from './shard-planner';

function where(shard: ShardSpec): string {
  const groups = shard.rowGroups.length === 1 ? `row group ${shard.rowGroups[0]}` : `row groups ${shard.rowGroups[0]}-${shard.rowGroups.at(-1)}`;
  return `shard ${shard.index} (${shard.file}, ${groups})`;
}

function topReasons(counts: Map<string, number>, limit = 3): string {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([reason, n]) => `${reason} (${n} rows)`)
    .join('; ');
}

function checkBadFraction(ctx: ScoringContext, shard: ShardSpec, issues: ContractIssues, rowsRead: number): void {
  const bad = issues.badRows.size;
  if (rowsRead === 0 || bad / rowsRead <= ctx.maxBadRowFraction) return;
  const pct = ((100 * bad) / rowsRead).toFixed(1);
  throw new ChurnError(
    'CONTRACT_VIOLATION',
    `${where(shard)}: ${bad} of ${rowsRead} rows (${pct}%) break the input contract, over the limit of ${(100 * ctx.maxBadRowFraction).toFixed(1)}%. Top reasons: ${topReasons(issues.counts)}. This usually means an upstream schema or export change: fix the input, or raise --max-bad-fraction if these rows are expected`,
    { details: { file: shard.file, rowGroups: shard.rowGroups, badRows: bad, rowsRead, reasons: Object.fromEntries(issues.counts) } },
  );
}

/**
 * Scores one shard: ranged reads of its row groups and needed columns, contract validation
 * (bad rows to quarantine), eligibility, features, batched inference, and the shard's score and
 * quarantine parts written to deterministic keys. Returns counts and partial statistics; rows
 * read = scored + quarantined + ineligible, always.
 */
export async function scoreShard(ctx: ScoringContext, shard: ShardSpec): Promise<ShardOutcome> {
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
  const issues = validateContract(columns, contract);
  checkBadFraction(ctx, shard, issues, rowsRead);
  const eligible = eligibleMask(columns, manifest.eligibility);
  const selected = new Int32Array(rowsRead);
  let scoredCount = 0;
  let ineligible = 0;
  const bad = new Uint8Array(rowsRead);
  for (const r of issues.badRows.keys()) bad[r] = 1;
  for (let r = 0; r < rowsRead; r++) {
    if (bad[r]) continue;
    if (eligible[r]) selected[scoredCount++] = r;
    else ineligible++;
  }
  const rows = selected.subarray(0, scoredCount);
  lap('validateMs');

  const featureCount = ctx.pipeline.featureIds.length;
  const matrix = new Float32Array(scoredCount * featureCount);
  ctx.pipeline.transform(columns, rows, matrix);
  lap('transformMs');

  const scores = await ctx.scorer.score(matrix, scoredCount);
  lap('inferMs');

  const bandNames = manifest.riskBands.map((b) => b.name);
  const bandCodes = new Int32Array(scoredCount);
  const bandCounts: Record<string, number> = Object.fromEntries(bandNames.map((b) => [b, 0]));
  let scoreSum = 0;
  const perBand = new Float64Array(bandNames.length);
  const histogram = new Float64Array(SCORE_BINS);
  for (let i = 0; i < scoredCount; i++) {
    const score = scores[i]!;
    const code = riskBandIndex(manifest.riskBands, score);
    bandCodes[i] = code;
    perBand[code]! += 1;
    histogram[Math.min(SCORE_BINS - 1, Math.max(0, Math.floor(score * SCORE_BINS)))]! += 1;
    scoreSum += score;
  }
  bandNames.forEach((name, code) => (bandCounts[name] = perBand[code]!));
  const scoreHistogram = Array.from(histogram);
  lap('bandMs');
  const explanation = await explainShard(ctx, { columns, rows, matrix, scores, bandCodes });
  lap('explainMs');
  const scoreTable = buildScoreTable(
    ctx.run,
    { customerIds: columns.takeStrings(contract.idColumn, rows), scores, bandCodes, bandNames },
    // With --explain none the run has no explanation columns at all (scoring-only throughput);
    // otherwise every part carries them, null on rows the policy did not select.
    ctx.explain.policy.kind === 'none' ? undefined : explanation.columns.players,
    explanation.columns,
  );
  const badRows = [...issues.badRows.keys()].sort((a, b) => a - b);
  const quarantineTable = buildQuarantineTable(ctx.run, {
    customerIds: columns.takeStrings(contract.idColumn, badRows),
    sourceFile: shard.file,
    rowIndices: Int32Array.from(badRows, (r) => shard.firstRow + r),
    reasons: badRows.map((r) => issues.badRows.get(r)!),
  });
  const part = ctx.layout.partUri(shard.index);
  const quarantine = ctx.layout.quarantineUri(shard.index);
  await Promise.all([writeTablePart(ctx.store, part, scoreTable), writeTablePart(ctx.store, quarantine, quarantineTable)]);
  lap('writeMs');
  timingsMs['totalMs'] = Object.values(timingsMs).reduce((a, b) => a + b, 0);

  return {
    index: shard.index,
    device: ctx.device,
    file: shard.file,
    rowGroups: shard.rowGroups,
    firstRow: shard.firstRow,
    rowsRead,
    rowsScored: scoredCount,
    rowsQuarantined: badRows.length,
    rowsIneligible: ineligible,
    part,
    quarantine,
    quarantineReasons: Object.fromEntries(issues.counts),
    bandCounts,
    scoreHistogram,
    scoreSum,
    rowsExplained: explanation.rowsExplained,
    modelEvaluations: explanation.evaluations,
    timingsMs,
  };
}
