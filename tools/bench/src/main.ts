import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { readParquetBytes, writeParquetTable } from '@churn/arrow-io';
import { loadBundle } from '@churn/model-bundle';
import { createObjectStore, joinUri, parseUri } from '@churn/object-store';
import { runLocal, type RunSummary } from '@churn/scoring';
import { warehouseBenchLines } from './warehouse-bench';
import { writeSynthDataset } from '@churn/synth-data';
import { runNaiveBaseline } from './naive-baseline';
import { runTreeBench } from './tree-bench';
import { driftRunPairs, runDriftBench } from './drift-bench';
import { peerComparisonArgs, runPeerComparison } from './peer-comparison';
import { arg } from './bench-args';
import { nodeFlagsNote } from './node-flags';

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

/** Explanation throughput beside scoring-only, with the model evaluations per second it took. */
function explainLine(label: string, run: RunSummary, scoringRowsPerSecond: number, target: number): string {
  const evalsPerSecond = run.modelEvaluations / run.seconds;
  return `  ${label}: ${Math.round(run.rowsPerSecond).toLocaleString('en-US')} rows/s (1/${(scoringRowsPerSecond / run.rowsPerSecond).toFixed(1)} of scoring-only; target 1/${target} or better), ${run.rowsExplained.toLocaleString('en-US')} rows explained, ${(evalsPerSecond / 1e6).toFixed(2)} M model evaluations/s`;
}

/**
 * `npm run bench`: embedded scoring of a synthetic 1,000,000-row snapshot against the naive
 * notebook baseline, in one process run, reported as rows/s and their ratio, plus peak RSS.
 */
async function main(): Promise<void> {
  const customers = arg('customers', 1_000_000);
  const sampleRows = arg('baseline-rows', 20_000);
  const concurrency = arg('concurrency', availableParallelism());
  const explainAllRows = !process.argv.includes('--skip-explain-all');
  const root = path.join(tmpdir(), `churn-bench-${customers}`);
  const store = createObjectStore();
  const data = joinUri(root, 'snapshots');
  const asOf = '2026-01-01';
  const modelUri = path.resolve(__dirname, '..', '..', 'models', 'churn-mlp');
  // The DuckDB + ONNX Runtime peer beside `churn score`, whole processes (peer-comparison.ts).
  const peerArgs = peerComparisonArgs(process.argv);
  const peer = peerArgs ? await runPeerComparison({ ...peerArgs, distRoot: path.resolve(__dirname, '..'), bundleDir: modelUri }) : [];
  if (process.argv.includes('--peer-only')) return;
  await mkdir(root, { recursive: true });
  if (!existsSync(path.join(root, 'snapshots', `as_of=${asOf}`, 'part-00003.parquet'))) {
    process.stderr.write(`generating ${customers} customers into ${data}\n`);
    await writeSynthDataset(store, data, { customers, asOf, seed: 1, files: 4 });
  }
  const bundle = await loadBundle(store, modelUri);

  const workerScript = path.resolve(__dirname, '..', 'cli', 'shard-worker.js');
  const outputOf = (policy: string) => joinUri(root, `scores-${policy.replace(/[^a-z0-9]+/gi, '_')}`);
  const run = (policy: string) =>
    runLocal({
      store,
      request: { dataset: data, asOf, model: modelUri, output: outputOf(policy), overrides: { explain: { policy } }, execution: { device: 'cpu', concurrency } },
      workerScript,
    });
  const embedded = await run('none');
  const peakRssKb = process.resourceUsage().maxRSS;
  const explainDefault = await run(bundle.manifest.explain.policy);
  const explainAll = explainAllRows ? await run('all') : undefined;
  // The warehouse load of the default-policy run (reasons and contributions where explained).
  const warehouse = await warehouseBenchLines(store, outputOf(bundle.manifest.explain.policy), explainDefault);
  // Drift's share of scoring-only time, against the embedded run above (issue 10's 10% budget).
  const drift = await runDriftBench({ store, bundleDir: modelUri, scoring: { rowsPerSecond: embedded.rowsPerSecond, rows: customers, threads: Math.min(concurrency, availableParallelism()) } });
  const driftRuns = await driftRunPairs({ store, bundleDir: modelUri, data, asOf, root, concurrency, workerScript });

  // parquetjs-lite cannot read dictionary-encoded (RLE_DICTIONARY) pages, so the baseline reads
  // the same rows re-written with plain encoding (not timed).
  const firstFile = parseUri(joinUri(data, `as_of=${asOf}`, 'part-00000.parquet'));
  const firstTable = readParquetBytes(await store.get(joinUri(data, `as_of=${asOf}`, 'part-00000.parquet')));
  const baselineFile = path.join(root, 'baseline-plain.parquet');
  await writeFile(baselineFile, writeParquetTable(firstTable, { compression: 'snappy', plainColumns: firstTable.schema.fields.map((f) => f.name) }));
  const baseline = await runNaiveBaseline({
    file: firstFile.scheme === 'file' ? baselineFile : '',
    manifest: bundle.manifest,
    modelBytes: bundle.modelBytes,
    sampleRows,
  });

  const lines = [
    `benchmark: ${customers.toLocaleString('en-US')} rows, model ${embedded.model}, CPU, ${concurrency} worker threads, node ${process.version}`,
    `  embedded (parquet-wasm + columnar kernels + batched ONNX): ${Math.round(embedded.rowsPerSecond).toLocaleString('en-US')} rows/s end to end (${embedded.seconds.toFixed(2)} s; scored ${embedded.rowsScored}, ineligible ${embedded.rowsIneligible}, quarantined ${embedded.rowsQuarantined})`,
    `  naive baseline (parquetjs-lite row cursor + session.run per row), ${baseline.rows.toLocaleString('en-US')}-row sample: ${Math.round(baseline.rowsPerSecond).toLocaleString('en-US')} rows/s, extrapolated ${(customers / baseline.rowsPerSecond).toFixed(0)} s for the dataset`,
    `  ratio embedded / baseline: ${(embedded.rowsPerSecond / baseline.rowsPerSecond).toFixed(1)}x`,
    `  peak RSS after embedded run: ${mb(peakRssKb)}`,
    explainLine(`explanations, default policy (${bundle.manifest.explain.policy})`, explainDefault, embedded.rowsPerSecond, 4),
    ...(explainAll ? [explainLine('explanations, all rows', explainAll, embedded.rowsPerSecond, 40)] : []),
    ...warehouse.lines,
    ...drift.lines,
    ...driftRuns.lines,
  ];
  if (!process.argv.includes('--skip-trees')) lines.push(...(await runTreeBench({ store, root, concurrency, workerScript })));
  const note = nodeFlagsNote();
  if (note) lines.push(note);
  for (const line of lines) process.stdout.write(`${line}\n`);
  process.stdout.write(
    `${JSON.stringify({
      rows: customers,
      embeddedRowsPerSecond: embedded.rowsPerSecond,
      baselineRowsPerSecond: Math.round(baseline.rowsPerSecond),
      ratio: embedded.rowsPerSecond / baseline.rowsPerSecond,
      peakRssMb: Math.round(peakRssKb / 1024),
      explainDefaultRowsPerSecond: explainDefault.rowsPerSecond,
      explainAllRowsPerSecond: explainAll?.rowsPerSecond,
      permutationPairs: bundle.manifest.explain.permutations,
      ...warehouse.json,
      drift: { ...drift.json, ...driftRuns.json },
      peer,
    })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
