/** Row accounting: every input row is scored, quarantined or ineligible. */
export interface RowCounts {
  rowsRead: number;
  rowsScored: number;
  rowsQuarantined: number;
  rowsIneligible: number;
}

/** What scoring one shard produced; merged into the run manifest at commit. */
export interface ShardOutcome extends RowCounts {
  index: number;
  /** Execution provider the shard ran on. */
  device: string;
  file: string;
  rowGroups: number[];
  /** First row of the shard within its file. */
  firstRow: number;
  part: string;
  quarantine: string;
  /** Reason kind -> rows quarantined for it. */
  quarantineReasons: Record<string, number>;
  /** Scored rows per risk band. */
  bandCounts: Record<string, number>;
  /** Scored rows per score bin: 20 equal bins over [0, 1]. */
  scoreHistogram: number[];
  scoreSum: number;
  /** Scored rows that carry explanations, and the model evaluations spent on them. */
  rowsExplained: number;
  modelEvaluations: number;
  timingsMs: Record<string, number>;
}

export interface RunManifest extends RowCounts {
  formatVersion: 1;
  runId: string;
  asOf: string;
  model: { name: string; version: string; sha256: string; bundle: string };
  input: { partition: string; files: { uri: string; size: number; rows: number }[] };
  output: string;
  device: string;
  startedAt: string;
  committedAt: string;
  settings: Record<string, unknown>;
  quarantineReasons: Record<string, number>;
  bandCounts: Record<string, number>;
  score: { mean: number; histogram: number[] };
  /** The explanation settings in force (bundle's, with command-line overrides). */
  explain: { policy: string; method: string; space: string; permutations: number };
  rowsExplained: number;
  modelEvaluations: number;
  shards: ShardOutcome[];
}

export const SCORE_BINS = 20;

/** Adds shard outcomes into run totals. */
export function mergeOutcomes(shards: readonly ShardOutcome[]): Pick<RunManifest, keyof RowCounts | 'quarantineReasons' | 'bandCounts' | 'score' | 'rowsExplained' | 'modelEvaluations'> {
  const totals = { rowsRead: 0, rowsScored: 0, rowsQuarantined: 0, rowsIneligible: 0 };
  const quarantineReasons: Record<string, number> = {};
  const bandCounts: Record<string, number> = {};
  const histogram = new Array<number>(SCORE_BINS).fill(0);
  let scoreSum = 0;
  let rowsExplained = 0;
  let modelEvaluations = 0;
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  };
  for (const s of shards) {
    totals.rowsRead += s.rowsRead;
    totals.rowsScored += s.rowsScored;
    totals.rowsQuarantined += s.rowsQuarantined;
    totals.rowsIneligible += s.rowsIneligible;
    add(quarantineReasons, s.quarantineReasons);
    add(bandCounts, s.bandCounts);
    s.scoreHistogram.forEach((c, i) => (histogram[i] = (histogram[i] ?? 0) + c));
    scoreSum += s.scoreSum;
    rowsExplained += s.rowsExplained;
    modelEvaluations += s.modelEvaluations;
  }
  return { ...totals, quarantineReasons, bandCounts, score: { mean: totals.rowsScored ? scoreSum / totals.rowsScored : 0, histogram }, rowsExplained, modelEvaluations };
}
