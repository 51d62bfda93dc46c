/**
 * libs/warehouse-pg against the real PostgreSQL at 127.0.0.1:5432 (database `test`, a schema of
 * its own, dropped after): migrations applied once and recorded, idempotent and safe when
 * several hosts migrate at once; an edited migration refused; a warehouse that accepts TCP and
 * never answers fails within the connect bound with host and database named.
 */
import { churnErrorOf } from '@churn/testing';
import { connectWarehouse, migrateWarehouse, MIGRATIONS, warehouseTarget, withWarehouse } from '@churn/warehouse-pg';
import { startSilentServer } from './support/silent-server';
import { dropSchema, pgRows, pgTarget, testSchema } from './support/warehouse';

describe('warehouse-pg against PostgreSQL', () => {
  const schemas: string[] = [];
  const schema = (label: string) => {
    const s = testSchema(label);
    schemas.push(s);
    return s;
  };

  afterAll(async () => {
    for (const s of schemas) await dropSchema(s);
  });

  it('applies the migrations once when four hosts migrate at once, and records them', async () => {
    const s = schema('migrate');
    const results = await Promise.all(Array.from({ length: 4 }, () => withWarehouse(pgTarget(s), migrateWarehouse)));
    const version = Math.max(...MIGRATIONS.map((m) => m.version));
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, 0, MIGRATIONS.length]);
    expect(results.every((r) => r.version === version)).toBe(true);
    expect(await pgRows(s, 'SELECT version, name FROM schema_migrations ORDER BY version')).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    const again = await withWarehouse(pgTarget(s), migrateWarehouse);
    expect(again).toEqual({ schema: s, applied: [], version });
    const tables = await pgRows(s, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name");
    expect(tables.map((t) => t['table_name'])).toEqual(
      expect.arrayContaining(['drift', 'evaluations', 'quarantine', 'reason_summary', 'runs', 'schema_migrations', 'score_changes', 'scores', 'scores_latest', 'segment_columns']),
    );
    // scores is declaratively partitioned by as_of.
    expect(await pgRows(s, "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = to_regclass(current_schema() || '.scores')")).toEqual([{ partstrat: 'r' }]);
  });

  it('refuses a schema whose recorded migration differs from this build', async () => {
    const s = schema('edited');
    await withWarehouse(pgTarget(s), migrateWarehouse);
    await withWarehouse(pgTarget(s), (conn) => conn.client.query(`UPDATE ${conn.schemaSql}.schema_migrations SET checksum = 'edited' WHERE version = 1`));
    const error = await churnErrorOf(withWarehouse(pgTarget(s), migrateWarehouse));
    expect(error.code).toBe('WAREHOUSE_UNAVAILABLE');
    expect(error.message).toMatch(/migration 1 \(initial\) with another checksum/);
  });

  it('fails within the connect bound when the server accepts and never answers, naming host and database, never the password', async () => {
    const silent = await startSilentServer();
    try {
      const target = warehouseTarget({ url: `postgres://loader:hunter2@127.0.0.1:${silent.port}/analytics`, schema: 'churn', connectTimeoutMs: 300 });
      const error = await churnErrorOf(connectWarehouse(target));
      expect(error.code).toBe('WAREHOUSE_UNAVAILABLE');
      expect(error.message).toContain(`127.0.0.1:${silent.port}/analytics`);
      expect(error.message).not.toContain('hunter2');
      expect(error.details).toMatchObject({ host: '127.0.0.1', port: silent.port, database: 'analytics' });
    } finally {
      await silent.close();
    }
  });
});
