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
    'bench/explain-accuracy': 'tools/bench/src/explain-accuracy.ts',
    'bench/queue-bench': 'tools/bench/src/queue-bench.ts',
  },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: true,
  tsconfig: 'tsconfig.base.json',
  logLevel: 'warning',
});
