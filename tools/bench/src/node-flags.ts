import * as path from 'node:path';
import { z } from 'zod';

/**
 * The V8 flags the product's scoring commands run under (bin/node-runtime.js: `churn score`
 * relays to a child started with them, the image starts every command with them). The bench
 * measures the product as it runs, so its child processes get them too, and its in-process runs
 * need the bench itself started with them (the npm scripts do).
 */
export function scoringNodeFlags(repoRoot = path.resolve(__dirname, '..', '..')): string[] {
  const runtime: unknown = require(path.join(repoRoot, 'bin', 'node-runtime.js'));
  return z.object({ SCORING_NODE_FLAGS: z.array(z.string().startsWith('--')) }).parse(runtime).SCORING_NODE_FLAGS;
}

/** A line for the report when this process lacks some of the flags (its in-process figures then understate the product). */
export function nodeFlagsNote(): string | undefined {
  const missing = scoringNodeFlags().filter((flag) => !process.execArgv.includes(flag));
  return missing.length === 0 ? undefined : `  note: this bench process runs without ${missing.join(' ')}; start it as the npm script does (node ${missing.join(' ')} dist/bench/...)`;
}
