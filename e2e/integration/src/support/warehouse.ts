import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { queryWarehouse, warehouseTarget, withWarehouse, type WarehouseTarget } from '@churn/warehouse-pg';
import { REPO_ROOT } from './churn-cli';

/** The local PostgreSQL of the test machines (trust auth), database `test`. */
export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name of its own for one test file (dropped after). */
export function testSchema(label: string): string {
  return `churn_e2e_${label}_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
}

export function pgTarget(schema: string): WarehouseTarget {
  return warehouseTarget({ url: PG_URL, schema });
}

export async function dropSchema(schema: string): Promise<void> {
  await withWarehouse(pgTarget(schema), (conn) => conn.client.query(`DROP SCHEMA IF EXISTS ${conn.schemaSql} CASCADE`));
}

export async function pgRows(schema: string, sql: string): Promise<Record<string, unknown>[]> {
  return (await queryWarehouse(pgTarget(schema), sql)).rows;
}

/** The SQL of each `<!-- analyst-question: NAME -->` block in docs/analysts.md. */
export async function analystQuestions(): Promise<Map<string, string>> {
  const text = await fs.readFile(path.join(REPO_ROOT, 'docs', 'analysts.md'), 'utf8');
  const out = new Map<string, string>();
  for (const m of text.matchAll(/<!-- analyst-question: ([a-z0-9-]+) -->\s*```sql\n([\s\S]*?)```/g)) out.set(m[1]!, m[2]!.trim());
  return out;
}

/** Rows made comparable across engines: numbers rounded to float32 precision, keys sorted. */
export function comparable(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) =>
    Object.fromEntries(
      Object.keys(row)
        .sort()
        .map((k) => {
          const v = row[k];
          return [k, typeof v === 'number' && !Number.isInteger(v) ? Number(Math.fround(v).toPrecision(6)) : v];
        }),
    ),
  );
}
