export { tableLayout, isInside, STAGING_FOLDER } from './score-table-layout';
export type { TableLayout, PartitionLayout, StagingLayout, AttemptStaging } from './score-table-layout';
export {
  buildScoreTable,
  buildQuarantineTable,
  encodeTablePart,
  partWriteOptions,
  writeTablePart,
  explanationColumnNames,
  SCORE_COLUMNS,
  QUARANTINE_COLUMNS,
  REASON_COUNT,
  CONTRIBUTION_COLUMN_PREFIX,
} from './score-table-writer';
export type { RunIdentity, ScoreRows, QuarantineRows, ExplanationColumns } from './score-table-writer';
export { nullableNumericColumn, categoryColumn, stringColumn, constantDate, constantTimestamp } from './arrow-builders';
export type { SegmentKind } from './arrow-builders';
export { mergeOutcomes, parseRunManifest, shardOutcomeSchema, runManifestSchema, runCostSchema, runCostOf, rowCountsSchema, SCORE_BINS, MANIFEST_FORMAT_VERSION } from './run-manifest';
export type { RunManifest, ShardOutcome, ShardOutcomeInput, RowCounts, OutcomeTotals, RunCost } from './run-manifest';
export { encodeIdKeys, decodeIdKeys, ID_ROW_KINDS } from './id-keys-file';
export type { IdKeys, IdRowKind } from './id-keys-file';
export { acquireLease, releaseLeaseOf, renewLeaseOf, startHeartbeat, defaultLeaseTimeoutMs, leaseRecordSchema } from './partition-lease';
export type { PartitionLease, LeaseRecord, LeaseOptions } from './partition-lease';
export { publishRun, runTag } from './partition-publisher';
export type { PublishRequest, ManifestBase } from './partition-publisher';
export type { ShardSource } from './cross-shard-duplicates';
export { readCommittedManifest, readManifestAt, listCommittedPartitions, releaseHeldRun, partitionOfRunId } from './partition-reader';
export type { CommittedPartition } from './partition-reader';
export { queryScores } from './score-query';
export type { QueryResult } from './score-query';
export { analystViewSql, ANALYST_VIEWS } from './analyst-views';
export type { AnalystView, AnalystViewSources } from './analyst-views';
export { segmentFieldsOf, isSegmentColumn, isCategorical, SEGMENT_TYPES } from './score-segments';
export type { SegmentField, SegmentType } from './score-segments';
export { publishCommitted, recordPublished, readPublishRecords, committedRunOf, publishRecordSchema, PUBLISH_STATES, PUBLISHED_FILE } from './run-publisher';
export type { RunPublisher, PublishRecord, PublishState, CommittedRunRef } from './run-publisher';
