import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as DuckDB from '@duckdb/node-api';
import { z } from 'zod';
import { ChurnError, isChurnError } from '@churn/errors';
import { baseName, normalizeUri, parseUri, type ObjectStore } from '@churn/object-store';
import { ANALYST_VIEWS, analystViewSql } from './analyst-views';
import { listCommittedPartitions, type CommittedPartition } from './partition-reader';
import { isSegmentColumn } from './score-segments';
import { CONTRIBUTION_COLUMN_PREFIX } from './score-table-writer';

export interface QueryResult {
  columns: string[];
  /** Rows as JSON-safe values (dates and timestamps as strings, big integers as numbers or strings). */
  rows: Record<string, unknown>[];
}

/** DuckDB, loaded on first query: shard workers import this lib but never query. */
function duckdb(): typeof DuckDB {
  return require('@duckdb/node-api') as typeof DuckDB;
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The quarantine view when no committed partition has quarantine parts: no rows, same columns. */
const EMPTY_QUARANTINE = `SELECT NULL::VARCHAR AS customer_id, NULL::VARCHAR AS source_file, NULL::INTEGER AS row_index, NULL::VARCHAR AS reason_code,
  NULL::VARCHAR AS reason_detail, NULL::DATE AS as_of, NULL::VARCHAR AS model_name, NULL::VARCHAR AS model_version, NULL::VARCHAR AS run_id WHERE false`;

/** The one field of a drift report these views read (the report's schema is monitoring's). */
const driftStatusSchema = z.object({ status: z.string() }).loose();

/**
 * `runs` (one row per committed partition, from its manifest), the analyst views
 * (`scores_latest`, `score_changes`, `reason_summary`: analyst-views) and `score_contributions`,
 * the same names and columns as in the PostgreSQL warehouse.
 */
async function createRunViews(connection: DuckDB.DuckDBConnection, partitions: readonly CommittedPartition[]): Promise<void> {
  await connection.run(`CREATE TABLE runs (run_id VARCHAR, attempt INTEGER, as_of DATE, model_name VARCHAR, model_version VARCHAR, model_digest VARCHAR,
    rows_read BIGINT, rows_scored BIGINT, rows_quarantined BIGINT, rows_ineligible BIGINT, started_at TIMESTAMPTZ, committed_at TIMESTAMPTZ, held BOOLEAN, drift_status VARCHAR)`);
  const literal = (v: string | number | boolean | null) => (v === null ? 'NULL' : typeof v === 'string' ? sqlString(v) : String(v));
  for (const p of partitions) {
    const m = p.manifest;
    const drift = driftStatusSchema.safeParse(m.drift).data?.status;
    const values = [m.runId, m.attempt, m.asOf, m.model.name, m.model.version, m.model.digest, m.rowsRead, m.rowsScored, m.rowsQuarantined, m.rowsIneligible, m.startedAt, m.committedAt, p.held, drift ?? null];
    await connection.run(`INSERT INTO runs VALUES (${values.map(literal).join(', ')})`);
  }
  const described = (await connection.runAndReadAll('DESCRIBE scores')).getRowObjectsJson() as { column_name: string; column_type: string }[];
  // Text and boolean segment columns, which reason_summary groups by (see analyst-views).
  const categoricalSegments = described
    .filter((c) => isSegmentColumn(c.column_name) && /^(VARCHAR|BOOLEAN)$/.test(c.column_type))
    .map((c) => c.column_name);
  const views = analystViewSql({ scores: 'scores', liveRuns: '(SELECT * FROM runs WHERE NOT held)', prefix: '', categoricalSegments });
  for (const name of ANALYST_VIEWS) await connection.run(`CREATE VIEW ${name} AS ${views[name]}`);
  const hasContributions = described.some((c) => c.column_name.startsWith(CONTRIBUTION_COLUMN_PREFIX));
  await connection.run(`CREATE VIEW score_contributions AS ${hasContributions ? SCORE_CONTRIBUTIONS : EMPTY_SCORE_CONTRIBUTIONS}`);
}

/**
 * PostgreSQL's `score_contributions` over the Parquet table: each non-null contribution of each
 * explained row with its feature's name (a model's rows have no value in another model's
 * contrib_ columns, so UNPIVOT, which drops nulls, pairs each row with its own features).
 */
const SCORE_CONTRIBUTIONS = `SELECT as_of, model_name, model_version, customer_id, run_id, substr(feature, ${CONTRIBUTION_COLUMN_PREFIX.length + 1}) AS feature, contribution
FROM (SELECT as_of, model_name, model_version, customer_id, run_id, COLUMNS('^${CONTRIBUTION_COLUMN_PREFIX}') FROM scores WHERE explained)
UNPIVOT (contribution FOR feature IN (COLUMNS('^${CONTRIBUTION_COLUMN_PREFIX}')))`;
const EMPTY_SCORE_CONTRIBUTIONS = `SELECT NULL::DATE AS as_of, NULL::VARCHAR AS model_name, NULL::VARCHAR AS model_version, NULL::VARCHAR AS customer_id, NULL::VARCHAR AS run_id,
  NULL::VARCHAR AS feature, NULL::FLOAT AS contribution WHERE false`;

/**
 * Local paths DuckDB can read for these parts (parts on S3 are copied into a folder of
 * `scratch` named `kind` first: score and quarantine parts share file names).
 */
async function localFiles(store: ObjectStore, uris: readonly string[], scratch: () => Promise<string>, kind: 'scores' | 'quarantine'): Promise<string[]> {
  const files: string[] = [];
  for (const uri of uris) {
    const parsed = parseUri(uri);
    if (parsed.scheme === 'file') {
      files.push(parsed.path);
    } else {
      const folder = path.join(await scratch(), kind);
      await mkdir(folder, { recursive: true });
      const local = path.join(folder, `${files.length}-${baseName(uri)}`);
      await writeFile(local, await store.get(uri));
      files.push(local);
    }
  }
  return files;
}

/**
 * Runs SQL in embedded DuckDB with the views `scores` (the committed partitions of a score
 * table: those with `_SUCCESS`, parts as their manifests list them) and `quarantine` (the rows
 * those runs quarantined, with `reason_code` and `reason_detail`). Partitions on S3 are copied
 * to a temporary folder first: DuckDB's S3 support is an extension downloaded at run time,
 * which these machines cannot fetch. A commit that lands while the query runs can remove the
 * parts of the version just listed; the query then lists again, once.
 */
export async function queryScores(store: ObjectStore, scoresUri: string, sql: string): Promise<QueryResult> {
  // A rerun publishing meanwhile deletes the previous version's parts after its new manifest is
  // in place: a query that read the old manifest then finds a part gone, and reads again (the
  // new manifest). Only parts named by a manifest count, never a file the SQL itself names.
  for (let attempt = 1; ; attempt++) {
    try {
      return await queryOnce(store, scoresUri, sql);
    } catch (error) {
      if (attempt < PART_VANISHED_RETRIES && isChurnError(error, 'INPUT_NOT_FOUND') && error.details['stage'] === 'parts') {
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
        continue;
      }
      throw error;
    }
  }
}

const PART_VANISHED_RETRIES = 5;

/** Whether DuckDB failed because one of the manifest-listed part files disappeared. */
function partVanished(cause: unknown, files: readonly string[]): boolean {
  const message = cause instanceof Error ? cause.message : String(cause);
  return /No files found that match the pattern|Cannot open file|No such file or directory/i.test(message) && files.some((f) => message.includes(f));
}

async function queryOnce(store: ObjectStore, scoresUri: string, sql: string): Promise<QueryResult> {
  const root = normalizeUri(scoresUri);
  const partitions = await listCommittedPartitions(store, root);
  if (partitions.length === 0) {
    throw new ChurnError('INPUT_NOT_FOUND', `no committed score partitions under ${root} (a partition is committed when it has _SUCCESS); score a partition first`, {
      details: { uri: root },
    });
  }
  let scratchDir: string | undefined;
  const scratch = async () => (scratchDir ??= await mkdtemp(path.join(tmpdir(), 'churn-query-')));
  const instance = await duckdb().DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const partUris = partitions.flatMap((p) => p.parts);
    for (const uri of partUris) {
      if (!(await store.head(uri))) throw new ChurnError('INPUT_NOT_FOUND', `${uri} is listed by its manifest but missing`, { details: { uri, stage: 'parts' } });
    }
    const files = await localFiles(store, partUris, scratch, 'scores');
    // A copied table may lack its quarantine sibling: the quarantine view then has what exists.
    const quarantineUris: string[] = [];
    for (const uri of partitions.flatMap((p) => p.quarantineParts)) if (await store.head(uri)) quarantineUris.push(uri);
    const quarantineFiles = await localFiles(store, quarantineUris, scratch, 'quarantine');
    const list = (paths: string[]) => `[${paths.map(sqlString).join(', ')}]`;
    const allFiles = [...files, ...quarantineFiles];
    const vanished = (cause: unknown) => new ChurnError('INPUT_NOT_FOUND', `a committed part vanished while the query read it (a rerun published meanwhile): ${(cause as Error).message}`, { cause, details: { uri: root, stage: 'parts' } });
    try {
      await connection.run(`CREATE VIEW scores AS SELECT * FROM read_parquet(${list(files)}, union_by_name = true, hive_partitioning = false)`);
      await connection.run(`CREATE VIEW quarantine AS ${quarantineFiles.length > 0 ? `SELECT * FROM read_parquet(${list(quarantineFiles)}, union_by_name = true, hive_partitioning = false)` : EMPTY_QUARANTINE}`);
      await createRunViews(connection, partitions);
    } catch (cause) {
      if (partVanished(cause, allFiles)) throw vanished(cause);
      throw cause;
    }
    let reader;
    try {
      reader = await connection.runAndReadAll(sql);
    } catch (cause) {
      if (partVanished(cause, allFiles)) throw vanished(cause);
      throw new ChurnError('INVALID_ARGUMENT', `query failed: ${(cause as Error).message}`, { cause });
    }
    const columns = reader.columnNames();
    // DuckDB's JSON form renders 64-bit integers and decimals as strings; counts and sums read
    // better as numbers wherever that is exact.
    const numeric = reader.columnTypes().map((t) => /^(U?(BIG|HUGE|SMALL|TINY)?INT|INTEGER|DECIMAL)/.test(t.toString()));
    const rows = (reader.getRowObjectsJson() as Record<string, unknown>[]).map((row) => {
      columns.forEach((c, i) => {
        const v = row[c];
        if (numeric[i] && typeof v === 'string' && Number.isFinite(Number(v)) && (!/^-?\d+$/.test(v) || Number.isSafeInteger(Number(v)))) row[c] = Number(v);
      });
      return row;
    });
    return { columns, rows };
  } finally {
    connection.closeSync();
    instance.closeSync();
    if (scratchDir) await rm(scratchDir, { recursive: true, force: true });
  }
}
