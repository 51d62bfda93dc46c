/**
 * Entry point of the peer's child process (`node dist/bench/duckdb-peer-main.js`): prints the
 * peer's result as one JSON line. Kept apart from duckdb-peer.ts so the benchmark's main bundle,
 * which imports `compareScores`, does not run the peer when it starts.
 */
import { z } from 'zod';
import { runDuckdbPeer, type PeerOptions } from './duckdb-peer';

const peerArgsSchema = z.object({
  partition: z.string().min(1),
  bundle: z.string().min(1),
  output: z.string().min(1),
  threads: z.coerce.number().int().positive(),
  'batch-rows': z.coerce.number().int().positive().default(65_536),
});

function parseArgs(argv: string[]): PeerOptions {
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!;
    if (!key.startsWith('--') || argv[i + 1] === undefined) throw new Error(`usage: duckdb-peer --partition DIR --bundle DIR --output FILE --threads N [--batch-rows N] (at "${key}")`);
    raw[key.slice(2)] = argv[i + 1]!;
  }
  const args = peerArgsSchema.parse(raw);
  return { partition: args.partition, bundleDir: args.bundle, output: args.output, threads: args.threads, batchRows: args['batch-rows'] };
}

runDuckdbPeer(parseArgs(process.argv.slice(2))).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    process.stderr.write(`duckdb-peer failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
