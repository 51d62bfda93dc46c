import type { WarehouseTarget } from './warehouse-config';
import { pg, withWarehouse } from './warehouse-connection';

export interface WarehouseQueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
}

/**
 * Runs SQL against the warehouse with the schema first on the search path, so the analyst
 * views and tables are found by their plain names (as in `churn query`). Numeric values the
 * driver returns as text (bigint counts, numeric) are numbers where that is exact; dates are
 * `YYYY-MM-DD`.
 */
export async function queryWarehouse(target: WarehouseTarget, sql: string, params: readonly unknown[] = []): Promise<WarehouseQueryResult> {
  return withWarehouse(target, async (conn) => {
    await conn.client.query(`SET search_path TO ${conn.schemaSql}, public`);
    const result = await conn.client.query({ text: sql, values: [...params], types: { getTypeParser: typeParser } });
    return { columns: result.fields.map((f) => f.name), rows: result.rows as Record<string, unknown>[] };
  });
}

/**
 * OIDs: int2 21, int4 23, int8 20, numeric 1700, date 1082, timestamptz 1184, real 700, float8 701;
 * arrays of text 1009, real 1021 (contributions), float8 1022 as the driver parses them.
 */
const ARRAY_OIDS = new Set([1009, 1021, 1022]);

function typeParser(oid: number): (text: string) => unknown {
  switch (oid) {
    case 21:
    case 23:
      return (text) => Number(text);
    case 20:
    case 1700:
      return (text) => (Number.isSafeInteger(Number(text)) || !/^-?\d+$/.test(text) ? Number(text) : text);
    case 700:
    case 701:
      return (text) => Number(text);
    case 1082:
      return (text) => text;
    case 1184:
      return (text) => new Date(text).toISOString();
    case 16:
      return (text) => text === 't';
    case 3802:
    case 114:
      return (text) => JSON.parse(text) as unknown;
    default:
      return ARRAY_OIDS.has(oid) ? (pg().types.getTypeParser(oid, 'text') as (text: string) => unknown) : (text) => text;
  }
}
