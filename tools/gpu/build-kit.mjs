// Builds the GPU kit: one self-contained archive (churn-gpu-kit.tar.xz, under 60 MiB) that
// scores on a bare linux-x64 machine with an NVIDIA GPU, nothing installed there but a driver
// (and a Vulkan loader for WebGPU). See tools/gpu/README.md.
//
//   node tools/gpu/build-kit.mjs [--out DIR] [--snapshot-rows N] [--no-archive]
//
// The kit holds: the running Node binary (process.execPath), the built CLI (dist/cli) and the
// kit runner (dist/gpu), the default bundle, a small synthetic snapshot, and the production
// packages the CLI needs from node_modules (by the lock file's dev flags), pruned of other
// platforms' native binaries (onnxruntime-node ships every platform's: ~240 MB of ~290 MB),
// of DuckDB (only `churn query` loads it, lazily) and of type declarations and source maps.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const out = path.resolve(option('out', path.join(repo, 'dist', 'gpu-kit')));
const snapshotRows = Number(option('snapshot-rows', '50000'));
const archive = !argv.includes('--no-archive');
/** The archive must travel to a device machine with the working tree (64 MiB there, all in). */
export const KIT_LIMIT_BYTES = 60 * 1024 * 1024;
const log = (line) => process.stderr.write(`build-kit: ${line}\n`);

if (process.platform !== 'linux' || process.arch !== 'x64') {
  log(`the kit is for linux-x64 and carries this Node binary; this is ${process.platform}-${process.arch}`);
  process.exit(2);
}
if (!Number.isInteger(snapshotRows) || snapshotRows <= 0) {
  log(`--snapshot-rows must be a positive integer, got ${option('snapshot-rows', '')}`);
  process.exit(2);
}

log('building dist/ (tools/build.mjs)');
execFileSync(process.execPath, [path.join(repo, 'tools', 'build.mjs')], { cwd: repo, stdio: 'inherit' });

const kit = path.join(out, 'churn-gpu-kit');
const app = path.join(kit, 'app');
rmSync(out, { recursive: true, force: true });
mkdirSync(path.join(app, 'dist'), { recursive: true });

copyFileSync(process.execPath, path.join(kit, 'node'));
chmodSync(path.join(kit, 'node'), 0o755);
copyFileSync(path.join(repo, 'tools', 'gpu', 'run-kit.sh'), path.join(kit, 'run-kit.sh'));
chmodSync(path.join(kit, 'run-kit.sh'), 0o755);
cpSync(path.join(repo, 'bin'), path.join(app, 'bin'), { recursive: true });
for (const d of ['cli', 'gpu']) cpSync(path.join(repo, 'dist', d), path.join(app, 'dist', d), { recursive: true });
cpSync(path.join(repo, 'models', 'churn-mlp'), path.join(app, 'models', 'churn-mlp'), { recursive: true });
copyFileSync(path.join(repo, 'package.json'), path.join(app, 'package.json'));

// Production packages, by the lock file: every installed entry not marked dev.
const lock = JSON.parse(readFileSync(path.join(repo, 'package-lock.json'), 'utf8')).packages;
const excluded = [/^node_modules\/@duckdb\//, /^node_modules\/@types\//];
const skipFile = (rel) => rel.endsWith('.d.ts') || rel.endsWith('.map') || rel.endsWith('.d.mts') || rel.endsWith('.d.cts');
let packages = 0;
for (const [rel, entry] of Object.entries(lock)) {
  if (!rel.startsWith('node_modules/') || entry.dev || excluded.some((re) => re.test(rel))) continue;
  const source = path.join(repo, rel);
  if (!existsSync(source)) continue; // another platform's optional package
  cpSync(source, path.join(app, rel), {
    recursive: true,
    dereference: true,
    // Nested node_modules are entries of their own in the lock file.
    filter: (src) => {
      const inner = path.relative(source, src);
      return !inner.split(path.sep).includes('node_modules') && !skipFile(inner);
    },
  });
  packages++;
}
const ortBin = path.join(app, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
for (const platform of ['darwin', 'win32']) rmSync(path.join(ortBin, platform), { recursive: true, force: true });
rmSync(path.join(ortBin, 'linux', 'arm64'), { recursive: true, force: true });
// parquet-wasm ships its wasm three times (bundler, esm, node); the CLI loads parquet-wasm/node.
for (const target of ['bundler', 'esm']) rmSync(path.join(app, 'node_modules', 'parquet-wasm', target), { recursive: true, force: true });
log(`${packages} production packages copied`);

log(`generating the ${snapshotRows}-row snapshot`);
const synth = spawnSync(process.execPath, [path.join(app, 'bin', 'churn.js'), 'synth', '--customers', String(snapshotRows), '--files', '2', '--seed', '7', '--as-of', '2026-01-01', '--out', path.join(kit, 'snapshot')], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (synth.status !== 0) {
  log(`churn synth failed (exit ${synth.status}) with the kit's own packages`);
  process.exit(1);
}
const commit = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).stdout?.trim() || 'unknown';
writeFileSync(path.join(kit, 'KIT.json'), `${JSON.stringify({ kit: 'churn-gpu-kit', node: process.version, platform: 'linux-x64', commit, snapshotRows, builtAt: new Date().toISOString() }, null, 2)}\n`);

if (archive) {
  const file = path.join(out, 'churn-gpu-kit.tar.xz');
  log(`compressing to ${file} (xz -1: the Node binary dominates, and higher levels gain ~5% for 3x the time)`);
  execFileSync('bash', ['-c', 'set -o pipefail; tar -C "$1" -cf - churn-gpu-kit | xz -T0 -1 > "$2"', 'tar', out, file], { stdio: 'inherit' });
  const bytes = statSync(file).size;
  const mib = (bytes / 1024 / 1024).toFixed(1);
  if (bytes > KIT_LIMIT_BYTES) {
    log(`the kit is ${mib} MiB, over its 60 MiB limit`);
    process.exit(1);
  }
  log(`kit: ${file} (${mib} MiB)`);
  process.stdout.write(`${JSON.stringify({ archive: file, bytes, mib: Number(mib), folder: kit })}\n`);
} else {
  process.stdout.write(`${JSON.stringify({ folder: kit })}\n`);
}
