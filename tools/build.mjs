// Bundles the `churn` CLI with esbuild: our libs are inlined (resolved through tsconfig paths),
// npm packages stay external and load from node_modules, except the few in INLINED. Runs on
// `npm ci` (prepare) and takes well under a second, so the CLI works right after install.
import { build } from 'esbuild';

// Pure-JavaScript packages that every process and every scoring thread loads at start-up, inlined
// so that their hundreds of module files are one script: loading the shard worker went from about
// 137 to 95 ms, and a 1M-row `churn score --explain none` took 0.94x the CPU and 0.96x the wall
// time (farm-bench, 10 pairs; docs/decisions.md). Packages with native code, wasm or files found
// next to their sources (onnxruntime-node, parquet-wasm, DuckDB, bullmq's Lua scripts, pino's
// transports, Chart.js's UMD file) must stay external, and so must any that another external
// package shares objects with (ioredis with bullmq).
const INLINED = new Set(['apache-arrow', 'zod']);

/** Marks every npm package external except INLINED; our `@churn/*` libs resolve through tsconfig paths. */
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@churn/') || args.path.startsWith('node:')) return undefined;
      const parts = args.path.split('/');
      const name = args.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
      return INLINED.has(name) ? undefined : { external: true };
    });
  },
};

await build({
  entryPoints: {
    'cli/main': 'apps/cli/src/main.ts',
    // Worker-thread entry for shard scoring; the CLI and the benchmark start it from dist/cli.
    'cli/shard-worker': 'libs/scoring/src/shard-worker-main.ts',
    // The queue apps; `churn worker` / `churn producer` load them from dist/.
    'worker/main': 'apps/worker/src/main.ts',
    'producer/main': 'apps/producer/src/main.ts',
    'bench/main': 'tools/bench/src/main.ts',
    // The GPU kit's runner (tools/gpu); run-kit.sh starts it with the kit's Node.
    'gpu/kit-runner': 'tools/gpu/src/kit-runner.ts',
    'bench/explain-accuracy': 'tools/bench/src/explain-accuracy.ts',
    'bench/queue-bench': 'tools/bench/src/queue-bench.ts',
    'bench/tree-bench': 'tools/bench/src/tree-bench.ts',
    'bench/drift-bench': 'tools/bench/src/drift-bench.ts',
    'bench/write-bench': 'tools/bench/src/write-bench.ts',
    // The peer pipeline and the resource-usage preload run as child processes of bench/main.
    'bench/duckdb-peer-main': 'tools/bench/src/duckdb-peer-main.ts',
    'bench/rusage-preload': 'tools/bench/src/rusage-preload.ts',
  },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  plugins: [externalPackages],
  sourcemap: true,
  tsconfig: 'tsconfig.base.json',
  // SQL migrations (libs/warehouse-pg) are bundled as text.
  loader: { '.sql': 'text' },
  logLevel: 'warning',
});
