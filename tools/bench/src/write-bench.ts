/**
 * `npm run bench:write`: encoding one shard's score part (`--explain none`, the default bundle's
 * 40 columns: 9 contract, 2 segments, 29 explanation columns all null) with parquet-wasm under
 * writer settings, interleaved and repeated in one process; min and median ms, and bytes.
 */
import { writeParquetTable } from '@churn/arrow-io';
import { loadBundle } from '@churn/model-bundle';
import { createObjectStore } from '@churn/object-store';
import { buildScoreTable, categoryColumn, encodeTablePart, nullableNumericColumn, partWriteOptions } from '@churn/warehouse';
import { vectorFromArray, Utf8 } from 'apache-arrow';
import * as path from 'node:path';
import { median } from './run-stats';
import { arg } from './bench-args';

async function main(): Promise<void> {
  const rows = arg('rows', 100_000);
  const repeats = arg('repeats', 7);
  const bundle = await loadBundle(createObjectStore(), path.resolve(__dirname, '..', '..', 'models', 'churn-mlp'));
  const scores = new Float32Array(rows);
  const bandCodes = new Int32Array(rows);
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < rows; i++) {
    scores[i] = Math.fround(rand());
    bandCodes[i] = scores[i]! >= 0.5 ? 2 : scores[i]! >= 0.2 ? 1 : 0;
  }
  const ids = vectorFromArray(Array.from({ length: rows }, (_, i) => `cus_${(1e9 + i * 7919).toString(36)}`), new Utf8());
  const plans = ['free', 'starter', 'pro', 'enterprise'];
  const planCodes = Int32Array.from({ length: rows }, () => Math.floor(rand() * 4));
  const mrr = Float64Array.from({ length: rows }, () => Math.round(rand() * 5000 * 100) / 100);
  const table = buildScoreTable(
    { runId: 'churn-mlp-1.0.0_2026-01-01_0123456789ab', asOf: '2026-01-01', modelName: 'churn-mlp', modelVersion: '1.0.0', modelDigest: 'd'.repeat(64), scoredAt: new Date('2026-01-01T00:00:00Z') },
    { customerIds: ids, scores, bandCodes, bandNames: ['low', 'medium', 'high'], segments: [{ name: 'plan', vector: categoryColumn(planCodes, plans) }, { name: 'mrr', vector: nullableNumericColumn('number', mrr, new Uint8Array(rows)) }] },
    bundle.manifest.features.map((f) => f.id),
  );
  // The variants start from the product's own settings.
  const base = partWriteOptions(table);
  const allNullOrConstant = table.schema.fields.map((f) => f.name).filter((c) => ['as_of', 'model_name', 'model_version', 'model_digest', 'run_id', 'scored_at', 'explained', 'base_value'].includes(c) || c.startsWith('contrib_') || c.startsWith('reason_'));
  const nullsUncompressed = { ...base.columnCompression, ...Object.fromEntries(allNullOrConstant.map((c) => [c, 'none' as const])) };
  const variants: [string, () => Uint8Array][] = [
    ['encodeTablePart (product)', () => encodeTablePart(table)],
    ['null/constant columns uncompressed', () => writeParquetTable(table, { ...base, columnCompression: nullsUncompressed })],
    ['write batch 8192', () => writeParquetTable(table, { ...base, writeBatchSize: 8192 })],
    ['write batch 65536', () => writeParquetTable(table, { ...base, writeBatchSize: 65536 })],
    ['writer version 2', () => writeParquetTable(table, { ...base, writerVersion: 2 })],
    ['snappy', () => writeParquetTable(table, { ...base, compression: 'snappy' })],
    ['uncompressed + batch 65536', () => writeParquetTable(table, { ...base, columnCompression: nullsUncompressed, writeBatchSize: 65536 })],
    ['without the 29 explanation columns', () => writeParquetTable(table.select(table.schema.fields.slice(0, 11).map((f) => f.name)), base)],
  ];
  const times = variants.map(() => [] as number[]);
  const bytes = variants.map(() => 0);
  for (let r = 0; r < repeats; r++) {
    variants.forEach(([, run], v) => {
      const began = performance.now();
      bytes[v] = run().length;
      times[v]!.push(performance.now() - began);
    });
  }
  process.stdout.write(`score part encode, ${rows.toLocaleString('en-US')} rows x ${table.numCols} columns, ${repeats} interleaved repeats (min / median ms, µs per row, bytes)\n`);
  const ref = median(times[0]!);
  variants.forEach(([name], v) => {
    const m = median(times[v]!);
    process.stdout.write(`  ${name.padEnd(38)} ${Math.min(...times[v]!).toFixed(1).padStart(7)} / ${m.toFixed(1).padStart(7)} ms  ${((m * 1000) / rows).toFixed(2)} µs/row  ${(m / ref).toFixed(2)}x  ${bytes[v]!.toLocaleString('en-US')} B\n`);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`write bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
