import { DuckDBInstance } from '@duckdb/node-api';

/** Runs one SQL statement in a fresh in-memory DuckDB and returns its rows as JSON objects. */
export async function duckdbRows(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    // Counts are BIGINT, which the JSON form gives as strings.
    return (reader.getRowObjectsJson() as Record<string, unknown>[]).map((row) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v])),
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
