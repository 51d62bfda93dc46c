import { vectorFromArray, type DataType, type Table } from 'apache-arrow';
import { readParquetBytes, readRowGroups } from '@churn/arrow-io';
import { baseName, type ObjectStore } from '@churn/object-store';
import { stringColumn } from './arrow-builders';
import { decodeIdKeys, ID_ROW_KINDS, type IdKeys } from './id-keys-file';
import { SCORE_BINS, type ShardOutcome } from './run-manifest';
import type { AttemptStaging } from './score-table-layout';
import { buildQuarantineTable, buildScoreTable, CONTRIBUTION_COLUMN_PREFIX, encodeTablePart, REASON_COUNT, type RunIdentity } from './score-table-writer';

/** Where a shard's rows came from: what the commit needs to confirm an id from the input. */
export interface ShardSource {
  index: number;
  file: string;
  fileSize: number;
  rowGroups: number[];
  firstRow: number;
}

export interface DuplicateContext {
  store: ObjectStore;
  run: RunIdentity;
  idColumn: string;
  bandNames: readonly string[];
  players: readonly string[];
  /** The bundle's segment columns (carried over when a part is rewritten). */
  segments: readonly string[];
  /** The staging of each outcome's attempt. */
  stagingOf(outcome: ShardOutcome): AttemptStaging;
  /** The commit attempt's staging (where rewritten parts and the duplicates part go). */
  commitStaging: AttemptStaging;
  sources: ReadonlyMap<number, ShardSource>;
}

export interface DuplicateResolution {
  /** Outcomes with duplicate copies moved from scored/ineligible to quarantined. */
  outcomes: ShardOutcome[];
  /** Shard index -> staged part rewritten without its duplicate copies. */
  rewritten: Map<number, { uri: string; rows: number }>;
  /** The staged quarantine part holding every copy, when there are duplicates. */
  quarantine?: { uri: string; rows: number };
  ids: number;
  rows: number;
}

/** Keys seen more than once over all shards (open addressing over a power-of-two table). */
function repeatedKeys(all: readonly IdKeys[]): Set<number> {
  const total = all.reduce((a, k) => a + k.keys.length, 0);
  const size = 2 ** Math.ceil(Math.log2(Math.max(2, total * 2)));
  const mask = size - 1;
  const table = new Float64Array(size).fill(Number.NaN);
  const repeated = new Set<number>();
  for (const { keys } of all) {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (Number.isNaN(key)) continue;
      // The slot from the key's low 32 bits (ToUint32 is exact for these integers), in integer arithmetic.
      let pos = (key >>> 0) & mask;
      for (;;) {
        const there = table[pos]!;
        if (Number.isNaN(there)) {
          table[pos] = key;
          break;
        }
        if (there === key) {
          repeated.add(key);
          break;
        }
        pos = (pos + 1) & mask;
      }
    }
  }
  return repeated;
}

interface Copy {
  shard: number;
  row: number;
  kind: (typeof ID_ROW_KINDS)[number];
}

/** Reads a table column's strings (rare path: a shard holding a duplicate). */
function strings(table: Table, column: string): (string | null)[] {
  const vector = table.getChild(column);
  return Array.from({ length: table.numRows }, (_, i) => {
    const v = vector?.get(i) as unknown;
    return v === null || v === undefined ? null : String(v);
  });
}

/** The staged score part without the rows of `drop`, rebuilt by the same writer (same schema). */
function withoutIds(part: Table, drop: ReadonlySet<string>, ctx: DuplicateContext) {
  const ids = strings(part, 'customer_id');
  const keep = ids.flatMap((id, i) => (id !== null && drop.has(id) ? [] : [i]));
  const removed = ids.flatMap((id, i) => (id !== null && drop.has(id) ? [i] : []));
  const scoresOf = part.getChild('score')!;
  const bands = strings(part, 'risk_band');
  const explained = part.getChild('explained');
  const pick = <T>(values: readonly T[]) => keep.map((i) => values[i]!);
  const scores = Float32Array.from(keep, (i) => Number(scoresOf.get(i)));
  const bandCodes = Int32Array.from(keep, (i) => Math.max(0, ctx.bandNames.indexOf(bands[i] ?? '')));
  const isExplained = Uint8Array.from(keep, (i) => (explained?.get(i) ? 1 : 0));
  const contributions = new Float32Array(keep.length * ctx.players.length);
  ctx.players.forEach((p, k) => {
    const column = part.getChild(`${CONTRIBUTION_COLUMN_PREFIX}${p}`);
    keep.forEach((i, j) => (contributions[j * ctx.players.length + k] = Number(column?.get(i) ?? 0)));
  });
  const baseRow = keep.find((i) => explained?.get(i));
  // Segment columns keep their type: the kept rows' values, taken from the part itself.
  const segments = ctx.segments.map((name) => {
    const column = part.getChild(name)!;
    return { name, vector: vectorFromArray(keep.map((i) => column.get(i) as unknown), column.type as DataType) };
  });
  const table = buildScoreTable(
    ctx.run,
    { customerIds: stringColumn(pick(ids)), scores, bandCodes, bandNames: ctx.bandNames, segments },
    ctx.players,
    {
      explained: isExplained,
      baseValue: baseRow === undefined ? 0 : Number(part.getChild('base_value')?.get(baseRow) ?? 0),
      contributions,
      reasons: Array.from({ length: REASON_COUNT }, (_, k) => pick(strings(part, `reason_${k + 1}`))),
      reasonTexts: Array.from({ length: REASON_COUNT }, (_, k) => pick(strings(part, `reason_${k + 1}_text`))),
    },
  );
  const removedStats = { rows: removed.length, explained: 0, scoreSum: 0, bands: {} as Record<string, number>, histogram: new Array<number>(SCORE_BINS).fill(0) };
  for (const i of removed) {
    const score = Number(scoresOf.get(i));
    removedStats.scoreSum += score;
    removedStats.histogram[Math.min(SCORE_BINS - 1, Math.max(0, Math.floor(score * SCORE_BINS)))]! += 1;
    const band = bands[i] ?? '';
    removedStats.bands[band] = (removedStats.bands[band] ?? 0) + 1;
    if (explained?.get(i)) removedStats.explained++;
  }
  return { table, removed: removedStats };
}

/**
 * Finds customer ids present in more than one shard (each shard already quarantined its own
 * repeats) from the shards' id-key files, confirms them against the input ids, and moves every
 * copy to the quarantine as `duplicate_id`, naming the files: affected staged parts are
 * rewritten without them and the outcomes' counts adjusted, so the accounting still balances.
 */
export async function resolveCrossShardDuplicates(outcomes: readonly ShardOutcome[], ctx: DuplicateContext): Promise<DuplicateResolution> {
  const keys = await Promise.all(outcomes.map(async (o) => {
    const uri = ctx.stagingOf(o).idsUri(o.index);
    return decodeIdKeys(await ctx.store.get(uri), uri);
  }));
  const none: DuplicateResolution = { outcomes: [...outcomes], rewritten: new Map(), ids: 0, rows: 0 };
  const repeated = repeatedKeys(keys);
  if (repeated.size === 0) return none;

  // Candidate rows per shard, then their actual ids from the input (keys are only 53 bits).
  const copiesById = new Map<string, Copy[]>();
  for (const [k, o] of outcomes.entries()) {
    const { keys: shardKeys, rows, kinds } = keys[k]!;
    const candidates: Copy[] = [];
    for (let i = 0; i < shardKeys.length; i++) if (repeated.has(shardKeys[i]!)) candidates.push({ shard: o.index, row: rows[i]!, kind: ID_ROW_KINDS[kinds[i]!] ?? 'scored' });
    if (candidates.length === 0) continue;
    const source = ctx.sources.get(o.index)!;
    const input = await readRowGroups({ store: ctx.store, uri: source.file, size: source.fileSize, rowGroups: source.rowGroups, columns: [ctx.idColumn] });
    const ids = input.getChild(ctx.idColumn)!;
    for (const copy of candidates) {
      const id = String(ids.get(copy.row));
      const list = copiesById.get(id) ?? [];
      list.push(copy);
      copiesById.set(id, list);
    }
  }
  const duplicates = [...copiesById.entries()].filter(([, copies]) => new Set(copies.map((c) => c.shard)).size > 1);
  if (duplicates.length === 0) return none;

  const dropByShard = new Map<number, Set<string>>();
  const quarantine = { ids: [] as (string | null)[], files: [] as string[], rows: [] as number[], details: [] as string[] };
  for (const [id, copies] of duplicates) {
    const where = copies.map((c) => `${baseName(ctx.sources.get(c.shard)!.file)} row ${ctx.sources.get(c.shard)!.firstRow + c.row}`).join(', ');
    const detail = `${ctx.idColumn} ${JSON.stringify(id)} appears ${copies.length} times in the partition (${where}); every copy is quarantined`;
    for (const c of copies) {
      const source = ctx.sources.get(c.shard)!;
      quarantine.ids.push(id);
      quarantine.files.push(source.file);
      quarantine.rows.push(source.firstRow + c.row);
      quarantine.details.push(detail);
      if (c.kind === 'scored') {
        const set = dropByShard.get(c.shard) ?? new Set<string>();
        set.add(id);
        dropByShard.set(c.shard, set);
      }
    }
  }

  const rewritten = new Map<number, { uri: string; rows: number }>();
  const adjusted = await Promise.all(
    outcomes.map(async (o) => {
      const mine = duplicates.flatMap(([, copies]) => copies.filter((c) => c.shard === o.index));
      if (mine.length === 0) return o;
      const ineligible = mine.filter((c) => c.kind === 'ineligible').length;
      const next: ShardOutcome = {
        ...o,
        rowsIneligible: o.rowsIneligible - ineligible,
        rowsQuarantined: o.rowsQuarantined + mine.length,
        quarantineReasons: { ...o.quarantineReasons, duplicate_id: (o.quarantineReasons['duplicate_id'] ?? 0) + mine.length },
      };
      const drop = dropByShard.get(o.index);
      if (!drop) return next;
      const stagedUri = ctx.stagingOf(o).partUri(o.index);
      const { table, removed } = withoutIds(readParquetBytes(await ctx.store.get(stagedUri)), drop, ctx);
      const uri = ctx.commitStaging.rewrittenPartUri(o.index);
      await ctx.store.put(uri, encodeTablePart(table));
      rewritten.set(o.index, { uri, rows: table.numRows });
      return {
        ...next,
        rowsScored: o.rowsScored - removed.rows,
        rowsExplained: o.rowsExplained - removed.explained,
        scoreSum: o.scoreSum - removed.scoreSum,
        scoreHistogram: o.scoreHistogram.map((c, i) => c - removed.histogram[i]!),
        bandCounts: Object.fromEntries(Object.entries(o.bandCounts).map(([band, n]) => [band, n - (removed.bands[band] ?? 0)])),
      };
    }),
  );
  const table = buildQuarantineTable(ctx.run, {
    customerIds: stringColumn(quarantine.ids),
    sourceFiles: quarantine.files,
    rowIndices: Int32Array.from(quarantine.rows),
    reasonCodes: quarantine.ids.map(() => 'duplicate_id'),
    reasonDetails: quarantine.details,
  });
  const uri = ctx.commitStaging.duplicatesQuarantineUri;
  await ctx.store.put(uri, encodeTablePart(table));
  return { outcomes: adjusted, rewritten, quarantine: { uri, rows: table.numRows }, ids: duplicates.length, rows: quarantine.ids.length };
}
