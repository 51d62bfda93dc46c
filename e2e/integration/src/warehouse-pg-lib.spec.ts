/**
 * libs/warehouse-pg against the real PostgreSQL at 127.0.0.1:5432 (database `test`, a schema of
 * its own, dropped after): migrations applied once and recorded, idempotent and safe when
 * several hosts migrate at once; an edited migration refused; a version 1 schema with rows
 * upgraded to the slice-per-leaf layout without losing one; binary COPY data read back by the
 * server as written; a warehouse that accepts TCP and never answers fails within the connect
 * bound with host and database named.
 */
import { churnErrorOf } from '@churn/testing';
import { Bool, Float32, vectorFromArray } from 'apache-arrow';
import { categoryColumn, constantDate, nullableNumericColumn, stringColumn } from '@churn/warehouse';
import { binaryField, boolReader, copyBinaryChunks, copyIn, connectWarehouse, float4ArrayField, migrateWarehouse, MIGRATIONS, warehouseTarget, withWarehouse } from '@churn/warehouse-pg';
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

  it('upgrades a version 1 schema with rows to one leaf per slice, contributions typed, nothing lost', async () => {
    const s = schema('upgrade');
    expect(await withWarehouse(pgTarget(s), (conn) => migrateWarehouse(conn, { upTo: 1 }))).toEqual({ schema: s, applied: [1], version: 1 });
    await withWarehouse(pgTarget(s), async (conn) => {
      const q = (sql: string) => conn.client.query(`SET search_path TO ${conn.schemaSql}; ${sql}`);
      await q(`CREATE TABLE scores_20260801 PARTITION OF scores FOR VALUES FROM ('2026-08-01') TO ('2026-08-02');
        ALTER TABLE scores ADD COLUMN plan text; INSERT INTO segment_columns VALUES ('plan', 'text', true);
        INSERT INTO runs (run_id, attempt, as_of, model_name, model_version, model_digest, dataset, output, state, rows_read, rows_scored, rows_quarantined, rows_ineligible, rows_explained,
          started_at, committed_at, loaded_at, seconds, cpu_seconds, device, settings, execution, manifest)
        VALUES ('r1', 1, '2026-08-01', 'm', '1', 'd', 'ds', 'out', 'loaded', 3, 2, 0, 1, 1, now(), now(), now(), 1, 1, 'cpu', '{}', '{}', '{}');
        INSERT INTO scores (as_of, model_name, model_version, customer_id, score, risk_band, model_digest, run_id, scored_at, explained, base_value, contributions, reason_1, plan) VALUES
          ('2026-08-01', 'm', '1', 'C1', 0.5, 'high', 'd', 'r1', '2026-08-01T02:00:00Z', true, 0.1, '{"tenure": 0.25, "api_error_rate": -0.125, "plan": null}', 'tenure', 'pro'),
          ('2026-08-01', 'm', '1', 'C2', 0.1, 'low', 'd', 'r1', '2026-08-01T02:00:00Z', false, null, null, null, 'free')`);
    });
    expect(await withWarehouse(pgTarget(s), migrateWarehouse)).toEqual({ schema: s, applied: [2], version: 2 });
    expect(await pgRows(s, 'SELECT customer_id, score, explained, contributions, reason_1, plan, run_id FROM scores ORDER BY customer_id')).toEqual([
      { customer_id: 'C1', score: 0.5, explained: true, contributions: [-0.125, null, 0.25], reason_1: 'tenure', plan: 'pro', run_id: 'r1' },
      { customer_id: 'C2', score: 0.1, explained: false, contributions: null, reason_1: null, plan: 'free', run_id: 'r1' },
    ]);
    // The features in the order of the jsonb keys, paired back by score_contributions (which
    // leaves the null one out, as churn query's does).
    expect(await pgRows(s, 'SELECT contribution_features FROM runs')).toEqual([{ contribution_features: ['api_error_rate', 'plan', 'tenure'] }]);
    expect(await pgRows(s, 'SELECT customer_id, feature, contribution FROM score_contributions ORDER BY feature')).toEqual([
      { customer_id: 'C1', feature: 'api_error_rate', contribution: -0.125 },
      { customer_id: 'C1', feature: 'tenure', contribution: 0.25 },
    ]);
    // Three levels: the date, the model name, the model version (the leaf holding the rows).
    expect(await pgRows(s, "SELECT level, isleaf FROM pg_partition_tree(to_regclass(current_schema() || '.scores')) ORDER BY level")).toEqual([
      { level: 0, isleaf: false },
      { level: 1, isleaf: false },
      { level: 2, isleaf: false },
      { level: 3, isleaf: true },
    ]);
    expect(await pgRows(s, "SELECT to_regclass(current_schema() || '.scores_v1') AS v1")).toEqual([{ v1: null }]);
    // The analyst views came back over the new table.
    expect(await pgRows(s, 'SELECT count(*)::int AS n FROM scores_latest')).toEqual([{ n: 2 }]);
  });

  it('sends binary COPY data that PostgreSQL reads back as written, every type the load uses', async () => {
    const s = schema('binary');
    await withWarehouse(pgTarget(s), async (conn) => {
      await conn.client.query(`CREATE SCHEMA ${conn.schemaSql}; CREATE TABLE ${conn.schemaSql}.t (id text, band text, score real, mrr double precision, seats bigint, flag boolean, as_of date, row_index integer, contributions real[])`);
      const a = vectorFromArray([0.5, 0, 0.1], new Float32());
      const b = vectorFromArray([-0.5, 0, null], new Float32());
      const fields = [
        binaryField(stringColumn(['C1', 'tab\there é\n', null]), 'id', 'text'),
        binaryField(categoryColumn(Int32Array.from([0, 1, -1]), ['low', 'high']), 'band', 'text'),
        binaryField(vectorFromArray([0.25, 0.1, null], new Float32()), 'score', 'real'),
        binaryField(nullableNumericColumn('number', Float64Array.from([1.5, 0, -2.25]), Uint8Array.from([0, 1, 0])), 'mrr', 'double precision'),
        binaryField(nullableNumericColumn('integer', Float64Array.from([3, -4, 2 ** 40]), new Uint8Array(3)), 'seats', 'bigint'),
        binaryField(vectorFromArray([true, false, null], new Bool()), 'flag', 'boolean'),
        binaryField(constantDate('2026-07-15', 3), 'as_of', 'date'),
        binaryField(vectorFromArray(Int32Array.from([7, -1, 0])), 'row_index', 'integer'),
        float4ArrayField([a, b], boolReader(vectorFromArray([true, false, true], new Bool()), 'explained')),
      ];
      async function* one() {
        yield { rows: 3, fields };
      }
      expect(await copyIn(conn, `COPY ${conn.schemaSql}.t FROM STDIN WITH (FORMAT binary)`, copyBinaryChunks(one()))).toBe(3);
    });
    expect(await pgRows(s, "SELECT id, band, score, mrr, seats::text, flag, to_char(as_of, 'YYYY-MM-DD') AS as_of, row_index, contributions FROM t ORDER BY row_index DESC")).toEqual([
      { id: 'C1', band: 'low', score: 0.25, mrr: 1.5, seats: '3', flag: true, as_of: '2026-07-15', row_index: 7, contributions: [0.5, -0.5] },
      { id: null, band: null, score: null, mrr: -2.25, seats: '1099511627776', flag: null, as_of: '2026-07-15', row_index: 0, contributions: [0.1, null] },
      { id: 'tab\there é\n', band: 'high', score: 0.1, mrr: null, seats: '-4', flag: false, as_of: '2026-07-15', row_index: -1, contributions: null },
    ]);
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
