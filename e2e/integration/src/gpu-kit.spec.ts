/**
 * The GPU kit (tools/gpu) on a machine without a GPU, as CI runs it: the build script makes an
 * archive under 60 MiB holding only linux-x64 native binaries and no dev dependency; unpacked
 * elsewhere, its run-kit.sh scores with its own Node and packages and prints one JSON line, with
 * the GPU steps reported as skipped and why.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './support/churn-cli';

const KIT_LIMIT_BYTES = 60 * 1024 * 1024;

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('GPU kit on a machine without a GPU', () => {
  let dir: string;
  let kit: string;
  let archive: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-gpu-kit-e2e-'));
    const built = await run(process.execPath, ['tools/gpu/build-kit.mjs', '--out', path.join(dir, 'build'), '--snapshot-rows', '6000']);
    if (built.code !== 0) throw new Error(`build-kit failed:\n${built.stderr}`);
    archive = (JSON.parse(built.stdout.trim().split('\n').at(-1)!) as { archive: string }).archive;
    // Unpacked somewhere else, with the build folder gone, so the kit can only use what it carries.
    await fs.mkdir(path.join(dir, 'unpacked'));
    execFileSync('tar', ['-xJf', archive, '-C', path.join(dir, 'unpacked')]);
    await fs.rm(path.join(dir, 'build', 'churn-gpu-kit'), { recursive: true });
    kit = path.join(dir, 'unpacked', 'churn-gpu-kit');
  }, 600_000);

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('is one archive under 60 MiB with the linux-x64 binaries only and no dev dependency', async () => {
    expect((await fs.stat(archive)).size).toBeLessThan(KIT_LIMIT_BYTES);
    const ortBin = path.join(kit, 'app', 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
    expect(await fs.readdir(ortBin)).toEqual(['linux']);
    expect(await fs.readdir(path.join(ortBin, 'linux'))).toEqual(['x64']);
    for (const dev of ['jest', 'nx', 'typescript', 'esbuild', 'eslint', 's3rver', 'nodejs-polars', 'parquetjs-lite']) {
      expect(existsSync(path.join(kit, 'app', 'node_modules', dev))).toBe(false);
    }
    expect(execFileSync(path.join(kit, 'node'), ['--version'], { encoding: 'utf8' }).trim()).toBe(process.version);
  });

  it('scores on the CPU with its own Node and packages, and reports the GPU steps as skipped', async () => {
    // PATH without the repository's tools, and no node_modules above the kit: only what it carries.
    const result = await run(path.join(kit, 'run-kit.sh'), ['--work', path.join(dir, 'work')], { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', NODE_PATH: '' });
    expect(result.stderr).toContain('Vulkan loader libvulkan.so.1');
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!) as {
      ok: boolean;
      rows: number;
      host: { gpus: string[] };
      cpu: { status: string; device: string; rowsPerSecond: number; explainAllEvaluationsPerSecond: number };
      webgpu: { status: string; reason?: string };
      auto: { status: string };
    };
    expect(result.code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.rows).toBe(6000);
    expect(report.cpu).toMatchObject({ status: 'ok', device: 'cpu' });
    expect(report.cpu.rowsPerSecond).toBeGreaterThan(0);
    expect(report.cpu.explainAllEvaluationsPerSecond).toBeGreaterThan(0);
    // CI machines have no GPU; where one is present the same test checks the GPU steps passed.
    if (report.host.gpus.length === 0) {
      expect(report.webgpu.status).toBe('skipped');
      expect(report.webgpu.reason).toMatch(/no NVIDIA GPU/);
      expect(report.auto.status).toBe('skipped');
    } else {
      expect(report.webgpu.status).toBe('ok');
    }
  }, 300_000);
});
