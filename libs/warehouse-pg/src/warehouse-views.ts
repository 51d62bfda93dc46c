import { ANALYST_VIEWS, analystViewSql, type SegmentType } from '@churn/warehouse';
import type { PgBinaryType } from './copy-binary';
import type { WarehouseConnection } from './warehouse-connection';

/** A segment column of `scores` as the warehouse records it. */
export interface WarehouseSegment {
  name: string;
  type: SegmentType;
  categorical: boolean;
}

/** PostgreSQL types of segment columns (doubles stay doubles: the Parquet column is DOUBLE). */
export const SEGMENT_SQL_TYPES: Readonly<Record<SegmentType, PgBinaryType>> = { text: 'text', double: 'double precision', bigint: 'bigint', boolean: 'boolean' };

/** The runs the analyst views count: loaded or released, never held nor replaced. */
export const LIVE_STATES = ['loaded', 'released'] as const;

/** The segment columns `scores` has now. */
export async function segmentColumnsOf(conn: WarehouseConnection): Promise<WarehouseSegment[]> {
  const rows = await conn.client.query<{ name: string; sql_type: string; categorical: boolean }>(`SELECT name, sql_type, categorical FROM ${conn.schemaSql}.segment_columns ORDER BY name`);
  const byType = new Map<string, SegmentType>(Object.entries(SEGMENT_SQL_TYPES).map(([k, v]) => [v, k as SegmentType]));
  return rows.rows.map((r) => ({ name: r.name, type: byType.get(r.sql_type) ?? 'text', categorical: r.categorical }));
}

/**
 * (Re)creates the analyst views over the schema's tables, from the SQL `churn query` uses too
 * (warehouse's analystViewSql), so both engines answer the same question the same way. Run in
 * the transaction that adds a segment column, so no reader sees a view without it.
 */
export async function createAnalystViews(conn: WarehouseConnection, segments: readonly WarehouseSegment[]): Promise<void> {
  const s = conn.schemaSql;
  const views = analystViewSql({
    scores: `${s}.scores`,
    liveRuns: `(SELECT model_name, model_version, as_of FROM ${s}.runs WHERE state IN (${LIVE_STATES.map((x) => `'${x}'`).join(', ')}))`,
    prefix: `${s}.`,
    categoricalSegments: segments.filter((x) => x.categorical).map((x) => x.name),
  });
  await conn.client.query(`DROP VIEW IF EXISTS ${[...ANALYST_VIEWS].reverse().map((v) => `${s}.${v}`).join(', ')}`);
  for (const name of ANALYST_VIEWS) await conn.client.query(`CREATE VIEW ${s}.${name} AS ${views[name]}`);
}
