import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as DuckDB from '@duckdb/node-api';
import { ChurnError } from '@churn/errors';
import { baseName, normalizeUri, parseUri, type ObjectStore } from '@churn/object-store';
import { listCommittedPartitions } from './run-commit';

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

/**
 * Runs SQL in embedded DuckDB with a view `scores` over the committed partitions of a score
 * table (those with `_SUCCESS`; parts listed in their manifests). Partitions on S3 are copied to
 * a temporary folder first: DuckDB's S3 support is an extension downloaded at run time, which
 * these machines cannot fetch.
 */
export async function queryScores(store: ObjectStore, scoresUri: string, sql: string): Promise<QueryResult> {
  const root = normalizeUri(scoresUri);
  const partitions = await listCommittedPartitions(store, root);
  if (partitions.length === 0) {
    throw new ChurnError('INPUT_NOT_FOUND', `no committed score partitions under ${root} (a partition is committed when it has _SUCCESS); run \`churn score\` first`, {
      details: { uri: root },
    });
  }
  let scratch: string | undefined;
  const files: string[] = [];
  for (const partition of partitions) {
    for (const part of partition.parts) {
      const parsed = parseUri(part);
      if (parsed.scheme === 'file') {
        files.push(parsed.path);
      } else {
        scratch ??= await mkdtemp(path.join(tmpdir(), 'churn-query-'));
        const local = path.join(scratch, `${files.length}-${baseName(part)}`);
        await writeFile(local, await store.get(part));
        files.push(local);
      }
    }
  }
  const instance = await duckdb().DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`CREATE VIEW scores AS SELECT * FROM read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true, hive_partitioning = false)`);
    let reader;
    try {
      reader = await connection.runAndReadAll(sql);
    } catch (cause) {
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
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}
