import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { ColumnCache, compileFeaturePipeline, eligibleMask, validateContract } from '@churn/feature-transforms';
import { loadBundle } from '@churn/model-bundle';
import { binIndex, createDriftAccumulator } from '@churn/monitoring';
import { createObjectStore, joinUri, type ObjectStore } from '@churn/object-store';
import { runLocal } from '@churn/scoring';
import { synthFileTable, writeSynthDataset } from '@churn/synth-data';
import { median } from './run-stats';
import { arg } from './bench-args';

export interface DriftBenchOptions {
  store: ObjectStore;
  /** The default bundle's folder. */
  bundleDir: string;
  /** Rows of the in-memory table the kernels run on (default 200,000). */
  rows?: number;
  /** Alternating repeats per variant (default 9). */
  repeats?: number;
  /** Scoring-only throughput of this machine, same process run: the budget drift is measured against. */
  scoring: { rowsPerSecond: number; rows: number; threads: number };
}

export interface DriftRunPairsOptions {
  store: ObjectStore;
  bundleDir: string;
  /** The snapshot partition's dataset URI and as-of date. */
  data: string;
  asOf: string;
  /** Scratch folder: the profile-less bundle copy and the outputs go under it. */
  root: string;
  concurrency: number;
  workerScript: string;
  /** Interleaved pairs (default 3). */
  pairs?: number;
}

/**
 * Whole scoring-only runs with drift and without it, interleaved (with, without, with, ...) after
 * one uncounted warm-up run: the bundle copy without a reference profile is the same model,
 * features and contract, and a bundle without a profile computes no drift (score-shard), so the
 * pair differs in drift alone.
 */
export async function driftRunPairs(options: DriftRunPairsOptions): Promise<DriftBenchResult & { rowsPerSecondWithDrift: number }> {
  const { store, root } = options;
  const pairs = options.pairs ?? 3;
  const plainDir = path.join(root, 'bundle-without-profile');
  await mkdir(plainDir, { recursive: true });
  const { reference: _reference, ...withoutProfile } = JSON.parse(await readFile(path.join(options.bundleDir, 'bundle.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(path.join(plainDir, 'bundle.json'), JSON.stringify(withoutProfile, null, 2));
  await copyFile(path.join(options.bundleDir, 'model.onnx'), path.join(plainDir, 'model.onnx'));
  const run = (model: string, output: string) =>
    runLocal({
      store,
      request: { dataset: options.data, asOf: options.asOf, model, output: joinUri(root, output), overrides: { explain: { policy: 'none' } }, execution: { device: 'cpu', concurrency: options.concurrency } },
      workerScript: options.workerScript,
    });
  const withDrift: number[] = [];
  const withoutDrift: number[] = [];
  const rowsPerSecond: number[] = [];
  // One run not counted: a process's first run pays for cold caches, and it would always be the
  // with-drift side of the first pair.
  await run(plainDir, 'scores-drift-off');
  for (let k = 0; k < pairs; k++) {
    const on = await run(options.bundleDir, 'scores-drift-on');
    withDrift.push(on.seconds);
    rowsPerSecond.push(on.rowsPerSecond);
    withoutDrift.push((await run(plainDir, 'scores-drift-off')).seconds);
  }
  const on = median(withDrift);
  const off = median(withoutDrift);
  return {
    lines: [
      `  whole runs, scoring only, ${pairs} interleaved pairs (medians): with drift ${on.toFixed(2)} s, without ${off.toFixed(2)} s: drift adds ${(100 * (on / off - 1)).toFixed(1)}% (budget 10%)`,
    ],
    json: { runSecondsWithDrift: on, runSecondsWithoutDrift: off, runDriftShare: on / off - 1 },
    rowsPerSecondWithDrift: median(rowsPerSecond),
  };
}

export interface DriftBenchResult {
  lines: string[];
  json: Record<string, number>;
}

/**
 * What drift histograms cost per scored row, side by side with the feature kernels they ride on
 * and with scoring-only throughput measured in the same process run (`npm run bench` prints it;
 * `npm run bench:drift` runs it alone). Variants alternate (A B A B ...) so machine noise hits
 * both; medians are reported.
 */
export async function runDriftBench(options: DriftBenchOptions): Promise<DriftBenchResult> {
  const { store } = options;
  const rows = options.rows ?? 200_000;
  const repeats = options.repeats ?? 9;
  const bundle = await loadBundle(store, options.bundleDir);
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

  const { threads } = options.scoring;
  const perRowPerThreadNs = (1e9 * threads) / options.scoring.rowsPerSecond;

  const lines = [
    `drift histograms: ${selected.length.toLocaleString('en-US')} eligible rows, ${width} features, ${repeats} alternating repeats (medians), node ${process.version}`,
    `  feature kernels alone:            ${median(plain).toFixed(0)} ns/row`,
    `  feature kernels + drift sink:     ${median(withDrift).toFixed(0)} ns/row (+${featureNs.toFixed(0)} ns/row, x${(median(withDrift) / median(plain)).toFixed(2)})`,
    `  bin kernels alone (unrolled):     ${median(kernels).toFixed(0)} ns/row; binary search per value: ${median(search).toFixed(0)} ns/row (x${(median(search) / median(kernels)).toFixed(1)})`,
    `  score histogram:                  ${median(scoreBins).toFixed(0)} ns/row`,
    `  drift total:                      ${driftNs.toFixed(0)} ns/row per thread`,
    `  scoring-only (explain none), ${options.scoring.rows.toLocaleString('en-US')} rows, ${threads} threads: ${Math.round(options.scoring.rowsPerSecond).toLocaleString('en-US')} rows/s = ${perRowPerThreadNs.toFixed(0)} ns/row per thread`,
    `  drift / scoring-only time:        ${((100 * driftNs) / perRowPerThreadNs).toFixed(1)}% (budget 10%)`,
  ];
  return {
    lines,
    json: { rows: selected.length, features: width, transformNs: median(plain), transformWithDriftNs: median(withDrift), kernelNs: median(kernels), binarySearchNs: median(search), scoreBinsNs: median(scoreBins), driftNs, scoringNsPerRowPerThread: perRowPerThreadNs, driftShare: driftNs / perRowPerThreadNs },
  };
}

// `npm run bench:drift [--rows N] [--repeats K] [--customers M] [--pairs P]`: the drift part alone,
// with its own scoring-only runs (the pairs'). Told by the script's name: esbuild inlines this module into dist/bench/main.js.
if (require.main === module && path.basename(process.argv[1] ?? '') === 'drift-bench.js') {
  void (async () => {
    const store = createObjectStore();
    const customers = arg('customers', 1_000_000);
    const bundleDir = path.resolve(__dirname, '..', '..', 'models', 'churn-mlp');
    const root = path.join(tmpdir(), `churn-bench-${customers}`);
    const data = joinUri(root, 'snapshots');
    // The same snapshot as `npm run bench`, reused when it is already there.
    if (!existsSync(path.join(root, 'snapshots', 'as_of=2026-01-01', 'part-00003.parquet'))) {
      await writeSynthDataset(store, data, { customers, asOf: '2026-01-01', seed: 1, files: 4 });
    }
    const threads = Math.min(2, availableParallelism());
    const workerScript = path.resolve(__dirname, '..', 'cli', 'shard-worker.js');
    // The pairs' runs with drift are the scoring-only figure the kernels are measured against.
    const runs = await driftRunPairs({ store, bundleDir, data, asOf: '2026-01-01', root, concurrency: threads, workerScript, pairs: arg('pairs', 3) });
    const scoring = { rowsPerSecond: runs.rowsPerSecondWithDrift, rows: customers, threads };
    const { lines, json } = await runDriftBench({ store, bundleDir, rows: arg('rows', 200_000), repeats: arg('repeats', 9), scoring });
    for (const line of [...lines, ...runs.lines]) process.stdout.write(`${line}\n`);
    process.stdout.write(`${JSON.stringify({ ...json, ...runs.json, scoringRowsPerSecond: scoring.rowsPerSecond })}\n`);
  })().catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
