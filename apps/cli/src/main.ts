import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './cli';
import { processIo } from './cli-io';

/** The version in the repository's package.json, found by walking up from the bundle. */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'churn-scoring' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here: keep walking up
    }
    if (path.dirname(dir) === dir) return '0.0.0';
  }
}

runCli(process.argv.slice(2), processIo(), packageVersion()).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`fatal: ${String(error)}\n`);
    process.exitCode = 70;
  },
);
