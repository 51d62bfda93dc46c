// Bundles the `churn` CLI with esbuild: our libs are inlined (resolved through tsconfig paths),
// npm packages stay external and load from node_modules. Runs on `npm ci` (prepare) and takes
// well under a second, so the CLI works right after install.
import { build } from 'esbuild';

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
  packages: 'external',
  sourcemap: true,
  tsconfig: 'tsconfig.base.json',
  // SQL migrations (libs/warehouse-pg) are bundled as text.
  loader: { '.sql': 'text' },
  logLevel: 'warning',
});
