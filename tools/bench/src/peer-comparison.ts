import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { createObjectStore } from '@churn/object-store';
import { writeSynthDataset } from '@churn/synth-data';
import { compareScores, type ScoreAgreement } from './duckdb-peer';
import { scoringNodeFlags } from './node-flags';
import { statsOf, type Stats } from './run-stats';

/**
 * `npm run bench`'s peer section: the product (`churn score --explain none`, the built CLI) and
 * the plain DuckDB + ONNX Runtime pipeline (duckdb-peer.ts), each as a whole child process, on
 * the same snapshot, interleaved and repeated in one run of the benchmark; min and median of
 * wall time, CPU seconds (user + system, all threads) and peak RSS, rows/s and ratios.
 */

const usageSchema = z.object({ code: z.number().int(), userSeconds: z.number(), systemSeconds: z.number(), maxRssKb: z.number() });

export interface ProcessMeasurement {
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
}

/** Runs `node <nodeFlags> <args>` with the resource-usage preload; wall time from spawn to exit. */
async function measureNode(distRoot: string, args: string[], usageFile: string, nodeFlags: readonly string[] = []): Promise<ProcessMeasurement & { stdout: string }> {
  await rm(usageFile, { force: true });
  const began = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, '--require', path.join(distRoot, 'bench', 'rusage-preload.js'), ...args], {
      env: { ...process.env, CHURN_BENCH_RUSAGE_FILE: usageFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (exit) => resolve({ code: exit, stdout: out, stderr: err }));
  });
  const wallSeconds = (performance.now() - began) / 1000;
  if (code !== 0) throw new Error(`node ${args.slice(0, 2).join(' ')} exited with ${code}:\n${stderr.slice(-2000)}`);
  const usage = usageSchema.parse(JSON.parse(await readFile(usageFile, 'utf8')));
  return { wallSeconds, cpuSeconds: usage.userSeconds + usage.systemSeconds, peakRssMb: usage.maxRssKb / 1024, stdout };
}

export interface PeerComparisonOptions {
  sizes: number[];
  repeats: number;
  /** The built dist/ folder (CLI and bench entries). */
  distRoot: string;
  bundleDir: string;
  /** ONNX Runtime and DuckDB threads for the peer; worker threads for the product. */
  threads?: number;
  out?: (line: string) => void;
}

export interface SizeComparison {
  rows: number;
  files: number;
  product: Record<keyof ProcessMeasurement, Stats>;
  peer: Record<keyof ProcessMeasurement, Stats>;
  productRowsPerSecond: number;
  peerRowsPerSecond: number;
  /** product / peer, of the medians. */
  ratios: Record<keyof ProcessMeasurement, number>;
  agreement: ScoreAgreement;
}

/** Score tolerance: both run the same float32 model on the same float32 inputs; see the docs. */
export const SCORE_TOLERANCE = 1e-6;

const fmt = (s: Stats, unit: string, digits = 2) => `${s.median.toFixed(digits)} ${unit} (min ${s.min.toFixed(digits)})`;

export async function runPeerComparison(options: PeerComparisonOptions): Promise<SizeComparison[]> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const threads = options.threads ?? availableParallelism();
  const store = createObjectStore();
  const asOf = '2026-01-01';
  const results: SizeComparison[] = [];
  const productFlags = scoringNodeFlags(path.resolve(options.distRoot, '..'));
  for (const rows of options.sizes) {
    // 4 files up to 1M rows, 8 beyond (the snapshots).
    const files = rows > 1_000_000 ? 8 : 4;
    const root = path.join(tmpdir(), `churn-bench-peer-${rows}-${files}`);
    const dataset = path.join(root, 'snapshots');
    const partition = path.join(dataset, `as_of=${asOf}`);
    if (!existsSync(path.join(partition, `part-${String(files - 1).padStart(5, '0')}.parquet`))) {
      process.stderr.write(`generating ${rows} customers in ${files} files into ${dataset}\n`);
      await writeSynthDataset(store, dataset, { customers: rows, asOf, seed: 1, files });
    }
    const runs = path.join(root, 'runs');
    await rm(runs, { recursive: true, force: true });
    await mkdir(runs, { recursive: true });
    const product: ProcessMeasurement[] = [];
    const peer: ProcessMeasurement[] = [];
    let agreement: ScoreAgreement | undefined;
    for (let r = 0; r < options.repeats; r++) {
      const productOut = path.join(runs, `product-${r}`);
      const peerOut = path.join(runs, `peer-${r}.parquet`);
      const runProduct = async () =>
        product.push(
          await measureNode(
            options.distRoot,
            [path.join(options.distRoot, 'cli', 'main.js'), 'score', '--input', dataset, '--as-of', asOf, '--output', productOut, '--model', options.bundleDir, '--explain', 'none', '--device', 'cpu', '--concurrency', String(threads)],
            path.join(runs, 'usage.json'),
            // As `churn score` runs: bin/churn.js relays to a child with these flags.
            productFlags,
          ),
        );
      const runPeer = async () =>
        peer.push(
          await measureNode(
            options.distRoot,
            [path.join(options.distRoot, 'bench', 'duckdb-peer-main.js'), '--partition', partition, '--bundle', options.bundleDir, '--output', peerOut, '--threads', String(threads)],
            path.join(runs, 'usage.json'),
          ),
        );
      // Alternate which goes first, so neither always runs on a cooler (or hotter) machine.
      if (r % 2 === 0) {
        await runProduct();
        await runPeer();
      } else {
        await runPeer();
        await runProduct();
      }
      if (!agreement) agreement = await compareScores(productOut, peerOut);
      await rm(productOut, { recursive: true, force: true });
      await rm(`${productOut}_quarantine`, { recursive: true, force: true });
      await rm(peerOut, { force: true });
    }
    const stats = (ms: ProcessMeasurement[]) => ({
      wallSeconds: statsOf(ms.map((m) => m.wallSeconds)),
      cpuSeconds: statsOf(ms.map((m) => m.cpuSeconds)),
      peakRssMb: statsOf(ms.map((m) => m.peakRssMb)),
    });
    const p = stats(product);
    const q = stats(peer);
    const result: SizeComparison = {
      rows,
      files,
      product: p,
      peer: q,
      productRowsPerSecond: Math.round(rows / p.wallSeconds.median),
      peerRowsPerSecond: Math.round(rows / q.wallSeconds.median),
      ratios: {
        wallSeconds: p.wallSeconds.median / q.wallSeconds.median,
        cpuSeconds: p.cpuSeconds.median / q.cpuSeconds.median,
        peakRssMb: p.peakRssMb.median / q.peakRssMb.median,
      },
      agreement: agreement!,
    };
    results.push(result);
    const a = result.agreement;
    out(`peer comparison: ${rows.toLocaleString('en-US')} rows in ${files} files, whole processes, ${options.repeats} interleaved runs each, ${threads} threads, medians (min)`);
    out(`  churn score --explain none: ${fmt(p.wallSeconds, 's')} wall, ${fmt(p.cpuSeconds, 's')} CPU, ${fmt(p.peakRssMb, 'MB', 0)} peak RSS, ${result.productRowsPerSecond.toLocaleString('en-US')} rows/s`);
    out(`  DuckDB + ONNX Runtime peer:  ${fmt(q.wallSeconds, 's')} wall, ${fmt(q.cpuSeconds, 's')} CPU, ${fmt(q.peakRssMb, 'MB', 0)} peak RSS, ${result.peerRowsPerSecond.toLocaleString('en-US')} rows/s`);
    out(
      `  ratio churn / peer: wall ${result.ratios.wallSeconds.toFixed(2)} (target <= 0.67), CPU ${result.ratios.cpuSeconds.toFixed(2)} (target <= 1), peak RSS ${result.ratios.peakRssMb.toFixed(2)} (target: churn <= 1024 MB)`,
    );
    const agrees = a.productRows === a.peerRows && a.matched === a.productRows && a.maxAbsDiff <= SCORE_TOLERANCE && a.bandMismatches === 0;
    out(`  scores: ${a.matched.toLocaleString('en-US')} of ${a.productRows.toLocaleString('en-US')} (peer ${a.peerRows.toLocaleString('en-US')}) matched on customer_id, max |diff| ${a.maxAbsDiff.toExponential(2)}, ${a.bandMismatches} band mismatches: ${agrees ? 'agree' : 'DISAGREE'}`);
    if (!agrees) process.exitCode = 1;
  }
  return results;
}

/** `--sizes 1000000,3000000` (default), `--repeats 3`, `--skip-peer`. */
export function peerComparisonArgs(argv: string[]): { sizes: number[]; repeats: number } | undefined {
  if (argv.includes('--skip-peer')) return undefined;
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i > 0 ? argv[i + 1] : undefined;
  };
  const sizes = z
    .array(z.coerce.number().int().positive())
    .min(1)
    .parse((value('sizes') ?? '1000000,3000000').split(','));
  const repeats = z.coerce.number().int().positive().parse(value('repeats') ?? '3');
  return { sizes, repeats };
}
