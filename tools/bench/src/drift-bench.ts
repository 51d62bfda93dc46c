import { existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { ColumnCache, compileFeaturePipeline, eligibleMask, validateContract } from '@churn/feature-transforms';
import { loadBundle } from '@churn/model-bundle';
import { binIndex, createDriftAccumulator } from '@churn/monitoring';
import { createObjectStore, joinUri } from '@churn/object-store';
import { runLocal } from '@churn/scoring';
import { synthFileTable, writeSynthDataset } from '@churn/synth-data';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * `npm run bench:drift`: what drift histograms cost per scored row, side by side with the feature
 * kernels they ride on and with scoring-only throughput, in one process run. Variants alternate
 * (A B A B ...) so machine noise hits both; medians are reported.
 */
async function main(): Promise<void> {
  const rows = arg('rows', 200_000);
  const repeats = arg('repeats', 9);
  const customers = arg('customers', 1_000_000);
  const store = createObjectStore();
  const bundle = await loadBundle(store, path.resolve(__dirname, '..', '..', 'models', 'churn-mlp'));
  const { manifest } = bundle;
  const reference = manifest.reference!;

  const table = synthFileTable({ customers: rows, asOf: '2026-01-01', seed: 3, files: 1 }, 0);
  const columns = new ColumnCache(table);
  const { badRows } = validateContract(columns, manifest.inputContract);
  const eligible = eligibleMask(columns, manifest.eligibility);
  const selected = Int32Array.from({ length: table.numRows }, (_, r) => r).filter((r) => !badRows.has(r) && eligible[r] === 1);
  const pipeline = compileFeaturePipeline(manifest.features);
  const width = pipeline.featureIds.length;
  const matrix = new Float32Array(selected.length * width);
  const scores = Float32Array.from({ length: selected.length }, (_, i) => ((i * 2654435761) % 1000) / 1000);
  pipeline.transform(columns, selected, matrix); // decode and JIT warm-up

  const time = (fn: () => void) => {
    const t = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - t) / selected.length;
  };
  const plain: number[] = [];
  const withDrift: number[] = [];
  const scoreBins: number[] = [];
  for (let k = 0; k < repeats; k++) {
    plain.push(time(() => pipeline.transform(columns, selected, matrix)));
    const accumulator = createDriftAccumulator(reference, pipeline.featureIds);
    withDrift.push(time(() => pipeline.transform(columns, selected, matrix, accumulator)));
    scoreBins.push(time(() => accumulator.addScores(scores)));
  }
  // The kernels alone on the same values, against a binary search per value (the baseline).
  const captured: Float64Array[] = [];
  pipeline.transform(columns, selected, matrix, { featureValues: (f, values, n) => (captured[f] = values.slice(0, n)) });
  const edges = pipeline.featureIds.map((id) => Float64Array.from(reference.features[id]!.edges));
  const kernels: number[] = [];
  const search: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const accumulator = createDriftAccumulator(reference, pipeline.featureIds);
    kernels.push(time(() => captured.forEach((values, f) => accumulator.featureValues(f, values, values.length, 0))));
    const counts = edges.map((e) => new Float64Array(e.length - 1));
    search.push(time(() => captured.forEach((values, f) => {
      const e = edges[f]!;
      const c = counts[f]!;
      for (let i = 0; i < values.length; i++) c[binIndex(e, Math.fround(values[i]!))]! += 1;
    })));
  }
  const featureNs = median(withDrift) - median(plain);
  const driftNs = featureNs + median(scoreBins);

  // Scoring-only throughput on this machine, same process: the budget drift is measured against.
  const root = path.join(tmpdir(), `churn-bench-${customers}`);
  const data = joinUri(root, 'snapshots');
  // The same snapshot as `npm run bench`, reused when it is already there.
  if (!existsSync(path.join(root, 'snapshots', 'as_of=2026-01-01', 'part-00003.parquet'))) {
    await writeSynthDataset(store, data, { customers, asOf: '2026-01-01', seed: 1, files: 4 });
  }
  const threads = Math.min(2, availableParallelism());
  const scoring = await runLocal({
    store,
    request: { dataset: data, model: bundle.uri, output: joinUri(root, 'scores-drift-bench'), overrides: { explain: { policy: 'none' } }, execution: { device: 'cpu', concurrency: threads } },
    workerScript: path.resolve(__dirname, '..', 'cli', 'shard-worker.js'),
  });
  const perRowPerThreadNs = (1e9 * threads) / scoring.rowsPerSecond;

  const lines = [
    `drift histograms: ${selected.length.toLocaleString('en-US')} eligible rows, ${width} features, ${repeats} alternating repeats (medians), node ${process.version}`,
    `  feature kernels alone:            ${median(plain).toFixed(0)} ns/row`,
    `  feature kernels + drift sink:     ${median(withDrift).toFixed(0)} ns/row (+${featureNs.toFixed(0)} ns/row, x${(median(withDrift) / median(plain)).toFixed(2)})`,
    `  bin kernels alone (unrolled):     ${median(kernels).toFixed(0)} ns/row; binary search per value: ${median(search).toFixed(0)} ns/row (x${(median(search) / median(kernels)).toFixed(1)})`,
    `  score histogram:                  ${median(scoreBins).toFixed(0)} ns/row`,
    `  drift total:                      ${driftNs.toFixed(0)} ns/row per thread`,
    `  scoring-only (explain none), ${customers.toLocaleString('en-US')} rows, ${threads} threads: ${scoring.rowsPerSecond.toLocaleString('en-US')} rows/s = ${perRowPerThreadNs.toFixed(0)} ns/row per thread`,
    `  drift / scoring-only time:        ${((100 * driftNs) / perRowPerThreadNs).toFixed(1)}% (budget 10%)`,
  ];
  for (const line of lines) process.stdout.write(`${line}\n`);
  process.stdout.write(
    `${JSON.stringify({ rows: selected.length, features: width, transformNs: median(plain), transformWithDriftNs: median(withDrift), kernelNs: median(kernels), binarySearchNs: median(search), scoreBinsNs: median(scoreBins), driftNs, scoringRowsPerSecond: scoring.rowsPerSecond, scoringNsPerRowPerThread: perRowPerThreadNs, driftShare: driftNs / perRowPerThreadNs })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
