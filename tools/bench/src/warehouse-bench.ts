import { toChurnError } from '@churn/errors';
import type { ObjectStore } from '@churn/object-store';
import type { RunSummary } from '@churn/scoring';
import { committedRunOf } from '@churn/warehouse';
import { describeEndpoint, encodeCommittedRun, endpointOfTarget, loadRunInto, migrateWarehouse, warehouseTarget, withWarehouse } from '@churn/warehouse-pg';

/** The local warehouse the bench loads into (a scratch schema, dropped after). */
const BENCH_URL = process.env['CHURN_BENCH_WAREHOUSE_URL'] ?? process.env['CHURN_WAREHOUSE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The PostgreSQL load rate of a committed bench run: the load at commit (one transaction: the
 * committed Parquet parts read back and sent with COPY, runs, quarantine, drift), into an empty
 * slice and again replacing it, beside the run that produced the Parquet commit. Lines to print;
 * when PostgreSQL is down, one line saying so (the bench still runs without it).
 */
export async function warehouseBenchLines(store: ObjectStore, scoresUri: string, run: RunSummary): Promise<{ lines: string[]; json: Record<string, number> }> {
  const schema = `churn_bench_${process.pid}`;
  const target = warehouseTarget({ url: BENCH_URL, schema });
  const where = describeEndpoint(endpointOfTarget(target));
  try {
    await withWarehouse(target, migrateWarehouse);
    const committed = await committedRunOf(store, scoresUri, { runId: run.runId });
    const first = await loadRunInto(target, committed);
    const again = await loadRunInto(target, committed);
    const t0 = performance.now();
    const encoded = await encodeCommittedRun(committed);
    const encodeSeconds = (performance.now() - t0) / 1000;
    const rate = (seconds: number) => Math.round(first.rows / Math.max(seconds, 1e-3));
    const parquetRate = Math.round(run.rowsScored / Math.max(run.seconds, 1e-3));
    return {
      lines: [
        `  PostgreSQL load at commit (${where}, one transaction: binary COPY into the slice's own table, key built after, swapped in), ${first.rows.toLocaleString('en-US')} score rows of the run above: ${rate(first.seconds).toLocaleString('en-US')} rows/s into an empty slice (${first.seconds.toFixed(2)} s), ${rate(again.seconds).toLocaleString('en-US')} rows/s replacing it (${again.seconds.toFixed(2)} s); target 300,000 rows/s`,
        `    of which the client's part (Parquet read back + binary COPY data, ${(encoded.bytes / 1e6).toFixed(0)} MB, nothing sent): ${rate(encodeSeconds).toLocaleString('en-US')} rows/s (${encodeSeconds.toFixed(2)} s), beside the server's COPY; then the server builds the key`,
        `    beside the Parquet side: that run scored and committed its ${run.rowsScored.toLocaleString('en-US')} rows in ${run.seconds.toFixed(2)} s (${parquetRate.toLocaleString('en-US')} scored rows/s); the load adds ${((first.seconds / Math.max(run.seconds, 1e-3)) * 100).toFixed(0)}% to it`,
      ],
      json: { warehouseRows: first.rows, warehouseLoadRowsPerSecond: rate(first.seconds), warehouseReplaceRowsPerSecond: rate(again.seconds), warehouseLoadSeconds: first.seconds, warehouseEncodeRowsPerSecond: rate(encodeSeconds), parquetRunSeconds: run.seconds },
    };
  } catch (error) {
    const failure = toChurnError(error);
    return { lines: [`  PostgreSQL load: skipped, ${where} is not usable ([${failure.code}] ${failure.message})`], json: {} };
  } finally {
    await withWarehouse(target, (conn) => conn.client.query(`DROP SCHEMA IF EXISTS ${conn.schemaSql} CASCADE`)).catch(() => undefined);
  }
}
