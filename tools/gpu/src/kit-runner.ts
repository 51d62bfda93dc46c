/**
 * The GPU kit's runner (`run-kit.sh` starts it with the kit's own Node): probes the host, scores
 * the kit's snapshot with `--device cpu` and, where an NVIDIA GPU is present, `--device webgpu`
 * (ONNX Runtime's bundled WebGPU provider, over Vulkan) and `--device auto`; checks that the
 * WebGPU scores agree with the CPU's; measures rows/s (scoring only) and model evaluations/s
 * (`--explain all`); prints everything as one JSON line on stdout. Progress goes to stderr.
 * Exit code 0 when every step that ran passed (GPU steps skipped for want of a GPU pass).
 */
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import { readParquetBytes } from '@churn/arrow-io';
import { createObjectStore } from '@churn/object-store';
import { listCommittedPartitions } from '@churn/warehouse';
import { gpuSkipReason, probeHost } from './host-probe';

/** WebGPU computes in float32 with other kernels than the CPU provider; 1e-4 on a probability. */
export const GPU_SCORE_TOLERANCE = 1e-4;

const summarySchema = z.object({
  rowsRead: z.number(),
  rowsScored: z.number(),
  rowsExplained: z.number(),
  modelEvaluations: z.number(),
  rowsPerSecond: z.number(),
  seconds: z.number(),
  cpuSeconds: z.number(),
  device: z.string(),
});
type Summary = z.infer<typeof summarySchema>;

const argsSchema = z.object({
  app: z.string().min(1),
  snapshot: z.string().min(1),
  work: z.string().min(1),
  rows: z.coerce.number().int().positive().optional(),
  concurrency: z.coerce.number().int().positive().optional(),
});

function parseArgs(argv: string[]): z.infer<typeof argsSchema> {
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!;
    if (!key.startsWith('--') || argv[i + 1] === undefined) throw new Error(`usage: kit-runner --app DIR --snapshot DIR --work DIR [--rows N] [--concurrency N] (at "${key}")`);
    raw[key.slice(2)] = argv[i + 1]!;
  }
  return argsSchema.parse(raw);
}

const log = (line: string) => process.stderr.write(`run-kit: ${line}\n`);

/** Runs the kit's `churn` with the kit's Node; resolves with its summary (last stdout line) or why it failed. */
function churn(app: string, args: string[]): Promise<{ summary?: Summary; error?: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(app, 'bin', 'churn.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error) => resolve({ error: error.message, stderr }));
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      const parsed = last.startsWith('{') ? summarySchema.safeParse(JSON.parse(last)) : undefined;
      if (code === 0 && parsed?.success) resolve({ summary: parsed.data, stderr });
      else resolve({ error: `churn ${args[0]} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`, stderr });
    });
  });
}

/** customer_id -> score of a committed score table. */
async function readScores(table: string): Promise<Map<string, number>> {
  const store = createObjectStore();
  const scores = new Map<string, number>();
  for (const partition of await listCommittedPartitions(store, table)) {
    for (const part of partition.parts) {
      const t = readParquetBytes(await store.get(part));
      const ids = t.getChild('customer_id');
      const values = t.getChild('score');
      if (!ids || !values) throw new Error(`${part} has no customer_id or score column`);
      for (let i = 0; i < t.numRows; i++) scores.set(String(ids.get(i)), Number(values.get(i)));
    }
  }
  return scores;
}

export interface ScoreComparison {
  rows: number;
  missing: number;
  maxAbsDiff: number;
  tolerance: number;
  agree: boolean;
}

async function compare(reference: string, other: string): Promise<ScoreComparison> {
  const a = await readScores(reference);
  const b = await readScores(other);
  let missing = 0;
  let maxAbsDiff = 0;
  for (const [id, score] of a) {
    const s = b.get(id);
    if (s === undefined) missing++;
    else maxAbsDiff = Math.max(maxAbsDiff, Math.abs(s - score));
  }
  missing += Math.max(0, b.size - (a.size - missing));
  return { rows: a.size, missing, maxAbsDiff, tolerance: GPU_SCORE_TOLERANCE, agree: a.size > 0 && missing === 0 && maxAbsDiff <= GPU_SCORE_TOLERANCE };
}

interface DeviceResult {
  status: 'ok' | 'failed' | 'skipped';
  reason?: string;
  /** The execution provider the run reports (auto resolves to one). */
  device?: string;
  /** Rows read by the scoring-only run. */
  rows?: number;
  rowsPerSecond?: number;
  scoringSeconds?: number;
  explainAllEvaluationsPerSecond?: number;
  explainAllRowsPerSecond?: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const probe = probeHost();
  log(`nvidia-smi: ${probe.gpus.length > 0 ? probe.gpus.join('; ') : (probe.nvidiaSmiDetail ?? probe.nvidiaSmi)}`);
  log(`Vulkan loader libvulkan.so.1: ${probe.vulkanLoader ?? 'not found'}`);
  log(`Vulkan ICD files: ${probe.icdFiles.length > 0 ? probe.icdFiles.join(', ') : 'none'}`);
  await rm(args.work, { recursive: true, force: true });
  await mkdir(args.work, { recursive: true });

  let snapshot = args.snapshot;
  if (args.rows) {
    snapshot = path.join(args.work, 'snapshot');
    log(`generating a ${args.rows}-row snapshot in ${snapshot}`);
    const synth = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [path.join(args.app, 'bin', 'churn.js'), 'synth', '--customers', String(args.rows), '--files', '4', '--seed', '7', '--as-of', '2026-01-01', '--out', snapshot], { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('close', resolve);
    });
    if (synth !== 0) throw new Error(`churn synth exited with ${synth}`);
  }
  const common = ['--input', snapshot, ...(args.concurrency ? ['--concurrency', String(args.concurrency)] : [])];
  const score = (device: string, explain: string) => {
    log(`scoring with --device ${device} --explain ${explain}`);
    return churn(args.app, ['score', ...common, '--output', path.join(args.work, `${device}-${explain}`), '--device', device, '--explain', explain]);
  };
  const measure = async (device: string): Promise<DeviceResult> => {
    const scoring = await score(device, 'none');
    if (!scoring.summary) return { status: 'failed', reason: scoring.error ?? 'no summary' };
    const explained = await score(device, 'all');
    if (!explained.summary) return { status: 'failed', reason: `explain all: ${explained.error ?? 'no summary'}`, device: scoring.summary.device, rowsPerSecond: scoring.summary.rowsPerSecond };
    return {
      status: 'ok',
      device: scoring.summary.device,
      rows: scoring.summary.rowsRead,
      rowsPerSecond: scoring.summary.rowsPerSecond,
      scoringSeconds: scoring.summary.seconds,
      explainAllRowsPerSecond: explained.summary.rowsPerSecond,
      explainAllEvaluationsPerSecond: Math.round(explained.summary.modelEvaluations / Math.max(explained.summary.seconds, 1e-3)),
    };
  };

  const cpu = await measure('cpu');
  const skip = gpuSkipReason(probe);
  let webgpu: DeviceResult;
  let auto: DeviceResult;
  let agreement: ScoreComparison | { skipped: string } | undefined;
  if (skip) {
    log(`GPU steps skipped: ${skip}`);
    webgpu = { status: 'skipped', reason: skip };
    auto = { status: 'skipped', reason: skip };
    agreement = { skipped: skip };
  } else {
    webgpu = await measure('webgpu');
    agreement = webgpu.status === 'ok' && cpu.status === 'ok' ? await compare(path.join(args.work, 'cpu-none'), path.join(args.work, 'webgpu-none')) : { skipped: 'a scoring run failed' };
    const a = await score('auto', 'none');
    auto = a.summary ? { status: 'ok', device: a.summary.device, rowsPerSecond: a.summary.rowsPerSecond, scoringSeconds: a.summary.seconds } : { status: 'failed', reason: a.error ?? 'no summary' };
  }
  const ok = cpu.status === 'ok' && (skip !== undefined || (webgpu.status === 'ok' && auto.status === 'ok' && 'agree' in agreement && agreement.agree));
  const result = {
    kit: 'churn-gpu-kit',
    ok,
    node: process.version,
    host: probe,
    rows: cpu.rows,
    snapshot,
    cpu,
    webgpu,
    auto,
    agreement,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (!ok) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`run-kit failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.stdout.write(`${JSON.stringify({ kit: 'churn-gpu-kit', ok: false, error: error instanceof Error ? error.message : String(error) })}\n`);
  process.exitCode = 1;
});
