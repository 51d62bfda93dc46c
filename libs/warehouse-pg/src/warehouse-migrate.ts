import { createHash } from 'node:crypto';
import { ChurnError } from '@churn/errors';
import { createAnalystViews, segmentColumnsOf } from './warehouse-views';
import { MIGRATIONS, type Migration } from './migrations';
import { inTransaction, type WarehouseConnection } from './warehouse-connection';

/** The table recording applied migrations, inside the warehouse schema. */
export const MIGRATIONS_TABLE = 'schema_migrations';

export interface MigrationResult {
  schema: string;
  /** Versions applied by this call (empty when the schema was up to date). */
  applied: number[];
  /** The schema's version afterwards. */
  version: number;
}

const checksum = (m: Migration) => createHash('sha256').update(m.sql).digest('hex');

/** A 32-bit key for pg_advisory_xact_lock from a text (stable across processes). */
export function lockKey(text: string): number {
  return createHash('sha256').update(text).digest().readInt32BE(0);
}

async function appliedVersions(conn: WarehouseConnection): Promise<Map<number, string> | undefined> {
  const exists = await conn.client.query<{ found: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS found`, [`${conn.schemaSql}.${MIGRATIONS_TABLE}`]);
  if (!exists.rows[0]?.found) return undefined;
  const rows = await conn.client.query<{ version: number; checksum: string }>(`SELECT version, checksum FROM ${conn.schemaSql}.${MIGRATIONS_TABLE}`);
  return new Map(rows.rows.map((r) => [r.version, r.checksum]));
}

/** True when every migration is applied (a cheap check, no lock). */
export async function isMigrated(conn: WarehouseConnection): Promise<boolean> {
  const applied = await appliedVersions(conn);
  return applied !== undefined && MIGRATIONS.every((m) => applied.has(m.version));
}

/**
 * Applies the migrations the schema lacks, in order, in one transaction, and records each with
 * its checksum. Idempotent, and safe when several workers migrate at once: a transaction-scoped
 * advisory lock per schema serialises them, and the second finds nothing left to do. A
 * recorded migration whose checksum differs from this build's is refused (it was edited after
 * release, or the schema belongs to another version of churn-scoring). `upTo` stops at a
 * version (a test of an upgrade starts from an older schema).
 */
export async function migrateWarehouse(conn: WarehouseConnection, options: { upTo?: number } = {}): Promise<MigrationResult> {
  const schema = conn.endpoint.schema;
  const wanted = MIGRATIONS.filter((m) => options.upTo === undefined || m.version <= options.upTo);
  return inTransaction(conn, async () => {
    await conn.client.query('SELECT pg_advisory_xact_lock($1, $2)', [lockKey('churn-warehouse-migrate'), lockKey(schema)]);
    await conn.client.query(`CREATE SCHEMA IF NOT EXISTS ${conn.schemaSql}`);
    await conn.client.query(`CREATE TABLE IF NOT EXISTS ${conn.schemaSql}.${MIGRATIONS_TABLE} (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = (await appliedVersions(conn)) ?? new Map<number, string>();
    for (const m of MIGRATIONS) {
      const recorded = applied.get(m.version);
      if (recorded !== undefined && recorded !== checksum(m)) {
        throw new ChurnError('WAREHOUSE_UNAVAILABLE', `warehouse schema ${schema} records migration ${m.version} (${m.name}) with another checksum than this build's; the schema was made by a different version of churn-scoring: use another schema, or migrate it with the matching version`, {
          details: { schema, version: m.version },
          settings: ['warehouseSchema'],
        });
      }
    }
    const known = new Set(MIGRATIONS.map((m) => m.version));
    const newer = [...applied.keys()].filter((v) => !known.has(v));
    if (newer.length > 0) {
      throw new ChurnError('WAREHOUSE_UNAVAILABLE', `warehouse schema ${schema} has migration(s) ${newer.join(', ')} that this build does not know: it was migrated by a newer churn-scoring; upgrade this one`, {
        details: { schema, versions: newer },
      });
    }
    const done: number[] = [];
    for (const m of wanted) {
      if (applied.has(m.version)) continue;
      await conn.client.query(`SET LOCAL search_path TO ${conn.schemaSql}`);
      await conn.client.query(m.sql);
      await conn.client.query(`INSERT INTO ${conn.schemaSql}.${MIGRATIONS_TABLE} (version, name, checksum) VALUES ($1, $2, $3)`, [m.version, m.name, checksum(m)]);
      done.push(m.version);
    }
    if (done.length > 0) await createAnalystViews(conn, await segmentColumnsOf(conn));
    return { schema, applied: done, version: Math.max(0, ...wanted.map((m) => m.version)) };
  });
}

/** Migrates when needed (the cheap check first), so a load needs no separate migrate step. */
export async function ensureMigrated(conn: WarehouseConnection): Promise<void> {
  if (!(await isMigrated(conn))) await migrateWarehouse(conn);
}
