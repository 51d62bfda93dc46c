import { ChurnError } from '@churn/errors';
import type { ObjectStore } from '@churn/object-store';
import { commitPartition, mergeOutcomes, type RunManifest, type ShardOutcome } from '@churn/warehouse';
import type { ExplainSummary } from './explain-config';
import type { ResolvedRun } from './run-planner';

export interface InputFile {
  uri: string;
  size: number;
  rows: number;
}

/** Input files as the manifest records them, from planning-time footers. */
export function inputFilesOf(footers: readonly { uri: string; size: number; numRows: number }[]): InputFile[] {
  return footers.map((f) => ({ uri: f.uri, size: f.size, rows: f.numRows }));
}

export interface RunCommit {
  run: ResolvedRun;
  /** The partition's files with their row counts (from the footers read at planning). */
  inputFiles: readonly InputFile[];
  outcomes: ShardOutcome[];
  explain: ExplainSummary;
  settings: Record<string, unknown>;
  startedAt: Date;
}

/**
 * Checks the row accounting (every input row scored, quarantined or ineligible, once) and
 * publishes the partition: parts checked, stale parts removed, `_manifest.json`, then `_SUCCESS`.
 */
export async function commitRun(store: ObjectStore, commit: RunCommit): Promise<RunManifest> {
  const { run, inputFiles, outcomes } = commit;
  const { manifest } = run.bundle;
  const totals = mergeOutcomes(outcomes);
  const rowsTotal = inputFiles.reduce((a, f) => a + f.rows, 0);
  if (totals.rowsScored + totals.rowsQuarantined + totals.rowsIneligible !== totals.rowsRead || totals.rowsRead !== rowsTotal) {
    throw new ChurnError(
      'COMMIT_FAILED',
      `row accounting does not balance (read ${totals.rowsRead} of ${rowsTotal}, scored ${totals.rowsScored}, quarantined ${totals.rowsQuarantined}, ineligible ${totals.rowsIneligible}); the run was not committed`,
    );
  }
  const runManifest: RunManifest = {
    formatVersion: 1,
    runId: run.runId,
    asOf: run.partition.asOf,
    model: { name: manifest.name, version: manifest.version, sha256: manifest.model.sha256, bundle: run.bundle.uri },
    input: { partition: run.partition.partitionUri, files: [...inputFiles] },
    output: run.layout.partitionUri,
    device: [...new Set(outcomes.map((o) => o.device))].join(',') || 'none',
    startedAt: commit.startedAt.toISOString(),
    committedAt: new Date().toISOString(),
    settings: commit.settings,
    explain: commit.explain,
    ...totals,
    shards: [...outcomes].sort((a, b) => a.index - b.index),
  };
  await commitPartition(store, run.layout, runManifest);
  return runManifest;
}
