import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

/** What the kit found on the host: the NVIDIA driver's view, the Vulkan loader and its drivers. */
export interface HostProbe {
  /** `nvidia-smi`'s one line per GPU (name, driver, memory), or why there is none. */
  gpus: string[];
  nvidiaSmi: 'ok' | 'missing' | 'failed';
  nvidiaSmiDetail?: string;
  /** Where `libvulkan.so.1` resolves (ldconfig's cache or LD_LIBRARY_PATH), if anywhere. */
  vulkanLoader?: string;
  /** Vulkan ICD manifests (driver JSON files) in the loader's search paths and VK_DRIVER_FILES / VK_ICD_FILENAMES. */
  icdFiles: string[];
}

/** The Vulkan loader's default ICD folders on Linux, plus where NVIDIA container runtimes mount theirs. */
const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/local/etc/vulkan/icd.d', '/usr/local/nvidia/share/vulkan/icd.d'];

function run(command: string, args: string[]): { ok: true; out: string } | { ok: false; missing: boolean; detail: string } {
  try {
    return { ok: true, out: execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 }) };
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    return { ok: false, missing: e.code === 'ENOENT', detail: (e.stderr || e.message).trim().split('\n')[0] ?? '' };
  }
}

function findVulkanLoader(): string | undefined {
  const cache = run('ldconfig', ['-p']);
  if (cache.ok) {
    const line = cache.out.split('\n').find((l) => l.includes('libvulkan.so.1'));
    const target = line?.split('=>')[1]?.trim();
    if (target) return target;
  }
  for (const dir of (process.env['LD_LIBRARY_PATH'] ?? '').split(':').filter(Boolean)) {
    const candidate = path.join(dir, 'libvulkan.so.1');
    if (existsSync(candidate)) return candidate;
  }
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib']) {
    const candidate = path.join(dir, 'libvulkan.so.1');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function findIcdFiles(): string[] {
  const files = new Set<string>();
  for (const variable of ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES']) {
    for (const file of (process.env[variable] ?? '').split(':').filter(Boolean)) if (existsSync(file)) files.add(file);
  }
  for (const dir of ICD_DIRS) {
    try {
      for (const name of readdirSync(dir)) if (name.endsWith('.json')) files.add(path.join(dir, name));
    } catch {
      // folder absent
    }
  }
  return [...files];
}

export function probeHost(): HostProbe {
  const smi = run('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader']);
  const vulkanLoader = findVulkanLoader();
  const base = { icdFiles: findIcdFiles(), ...(vulkanLoader ? { vulkanLoader } : {}) };
  if (smi.ok) return { ...base, nvidiaSmi: 'ok', gpus: smi.out.split('\n').map((l) => l.trim()).filter(Boolean) };
  return { ...base, nvidiaSmi: smi.missing ? 'missing' : 'failed', nvidiaSmiDetail: smi.missing ? 'nvidia-smi not found' : smi.detail, gpus: [] };
}

/** Why the GPU steps cannot run here, or undefined when an NVIDIA GPU is present. */
export function gpuSkipReason(probe: HostProbe): string | undefined {
  if (probe.gpus.length > 0) return undefined;
  return probe.nvidiaSmi === 'missing' ? 'no NVIDIA GPU: nvidia-smi not found' : `no NVIDIA GPU: nvidia-smi ${probe.nvidiaSmiDetail ?? 'listed none'}`;
}
