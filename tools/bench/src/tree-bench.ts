import { existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkTreeEnsemble } from '@churn/explain';
import { loadBundle } from '@churn/model-bundle';
import { churnModelSpec, readTreeEnsemble, trainBundle } from '@churn/model-trainer';
import { createObjectStore, joinUri, type ObjectStore } from '@churn/object-store';
import { runLocal, type RunSummary } from '@churn/scoring';
import { writeSynthDataset } from '@churn/synth-data';
import { arg } from './bench-args';

export interface TreeBenchOptions {
  store: ObjectStore;
  /** Scratch folder of the benchmark. */
  root: string;
  concurrency: number;
  workerScript: string;
  /** Customers in the tree benchmark's own snapshot (default 200,000). */
  customers?: number;
  /** Interleaved scoring-only / explain-all pairs (default 3). */
  pairs?: number;
}

/** The 12 ungrouped features of the demo spec the tree benchmark's GBDT is trained on. */
const TREE_FEATURES = 12;
/** Trees in the benchmark's GBDT, all kept (no early stopping). */
const TREE_COUNT = 100;

/**
 * The tree part of `npm run bench`: trains (once, cached under `root`) a GBDT of exactly 100 trees
 * of depth 5 on 12 features of the demo spec, then scores the same snapshot scoring-only and with
 * `--explain all` (method auto, which is TreeSHAP for this bundle), in this process run. Returns
 * the report lines; the target is explain-all at least half the scoring-only throughput.
 */
export async function runTreeBench(options: TreeBenchOptions): Promise<string[]> {
  const { store, root } = options;
  const customers = options.customers ?? 200_000;
  const asOf = '2026-01-01';
  const data = joinUri(root, `tree-snapshots-${customers}`);
  if (!existsSync(path.join(root, `tree-snapshots-${customers}`, `as_of=${asOf}`, 'part-00003.parquet'))) {
    await writeSynthDataset(store, data, { customers, asOf, seed: 3, files: 4 });
  }
  // The folder's name changes with the training settings, so a cached model of another shape is
  // never reused (an earlier one stopped early at 73 trees).
  const modelFolder = `gbdt-${TREE_COUNT}x5-all`;
  const model = joinUri(root, modelFolder);
  if (!existsSync(path.join(root, modelFolder, 'bundle.json'))) {
    const spec = churnModelSpec();
    const features = spec.features.filter((f) => f.group === undefined).slice(0, TREE_FEATURES);
    await trainBundle(store, {
      dataUri: data,
      outUri: model,
      kind: 'gbdt',
      name: 'bench-gbdt',
      seed: 5,
      maxRows: 60_000,
      spec: { ...spec, features },
      // No early stopping: exactly 100 trees of depth 5, the shape of the XGBoost export in issue 11.
      gbdt: { trees: TREE_COUNT, depth: 5, learningRate: 0.05, earlyStopping: false },
      compareMlp: false,
    });
  }
  // The shape the report states is the one read back from the bundle's ONNX graph.
  const bundle = await loadBundle(store, model);
  const read = readTreeEnsemble(bundle.modelBytes, bundle.manifest.model.output, bundle.manifest.features.length);
  if (!('trees' in read)) throw new Error(`the tree benchmark's model is not a tree ensemble: ${read.unsupported}`);
  const treeCount = read.trees.roots.length;
  const depth = checkTreeEnsemble(read.trees);
  const run = (policy: string): Promise<RunSummary> =>
    runLocal({
      store,
      request: { dataset: data, asOf, model, output: joinUri(root, `tree-scores-${modelFolder}-${policy}`), overrides: { explain: { policy } }, execution: { device: 'cpu', concurrency: options.concurrency } },
      workerScript: options.workerScript,
    });
  // Interleaved pairs (none, all, none, all, ...), medians: single runs of a few seconds swing by
  // a third on this machine.
  const pairs = options.pairs ?? 3;
  const scoringRuns: RunSummary[] = [];
  const explainedRuns: RunSummary[] = [];
  for (let k = 0; k < pairs; k++) {
    scoringRuns.push(await run('none'));
    explainedRuns.push(await run('all'));
  }
  const medianRun = (runs: RunSummary[]) => [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
  const scoring = medianRun(scoringRuns);
  const explained = medianRun(explainedRuns);
  const ratio = explained.rowsPerSecond / scoring.rowsPerSecond;
  const rate = (r: RunSummary) => `${Math.round(r.rowsPerSecond).toLocaleString('en-US')} rows/s`;
  return [
    `tree bundle (GBDT, ${treeCount} trees of depth ${depth}, ${bundle.manifest.features.length} features, ${read.trees.feature.length.toLocaleString('en-US')} nodes), ${customers.toLocaleString('en-US')} rows, ${pairs} interleaved pairs (medians):`,
    `  scoring only: ${rate(scoring)} (${scoring.seconds.toFixed(2)} s)`,
    `  --explain all, method auto (tree): ${rate(explained)} (${explained.seconds.toFixed(2)} s), ${explained.rowsExplained.toLocaleString('en-US')} rows explained with ${explained.modelEvaluations} model evaluations; ${ratio.toFixed(2)} of scoring-only (target 0.5 or better)`,
  ];
}

// `node dist/bench/tree-bench.js [--customers N]`: the tree part alone (npm run bench runs it too).
// esbuild inlines this module into dist/bench/main.js, where `require.main === module` holds as
// well, so the entry is told by the script's name (else `npm run bench` ran the trees twice).
if (require.main === module && path.basename(process.argv[1] ?? '') === 'tree-bench.js') {
  void (async () => {
    const customers = arg('customers', 200_000);
    const root = path.join(tmpdir(), 'churn-bench-trees');
    const lines = await runTreeBench({ store: createObjectStore(), root, concurrency: availableParallelism(), workerScript: path.resolve(__dirname, '..', 'cli', 'shard-worker.js'), customers });
    for (const line of lines) process.stdout.write(`${line}\n`);
  })().catch((error: unknown) => {
    process.stderr.write(`tree bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
