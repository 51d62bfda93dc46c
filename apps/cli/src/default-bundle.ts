import { existsSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The committed default bundle (`models/churn-mlp`), found by walking up from this file so it
 * resolves the same from sources (tests) and from the built `dist/` bundle.
 */
export function defaultBundlePath(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'models', 'churn-mlp');
    if (existsSync(path.join(candidate, 'bundle.json'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve('models', 'churn-mlp');
    dir = parent;
  }
}

/**
 * The bundled shard-worker script beside the built CLI (dist/cli/shard-worker.js), or undefined
 * when running from sources, where shards are scored on the main thread instead.
 */
export function shardWorkerScript(): string | undefined {
  const script = path.join(__dirname, 'shard-worker.js');
  return existsSync(script) ? script : undefined;
}
