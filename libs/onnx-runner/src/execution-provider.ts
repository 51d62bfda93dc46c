import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { ChurnError } from '@churn/errors';

export const DEVICES = ['auto', 'cpu', 'cuda', 'webgpu'] as const;
export type Device = (typeof DEVICES)[number];
export type ResolvedDevice = Exclude<Device, 'auto'>;

/** Parses a `--device` value, refusing unknown ones with the list of valid choices. */
export function parseDevice(value: string): Device {
  if ((DEVICES as readonly string[]).includes(value)) return value as Device;
  throw new ChurnError('INVALID_ARGUMENT', `unknown device "${value}"; use one of: ${DEVICES.join(', ')}`, {
    details: { device: value },
  });
}

/**
 * Execution providers to try, in order. `auto` prefers CUDA (its provider libraries are an
 * install option), then ONNX Runtime's bundled WebGPU provider (over Vulkan, so any GPU with a
 * Vulkan driver), then the CPU.
 */
export function candidateDevices(device: Device): ResolvedDevice[] {
  return device === 'auto' ? ['cuda', 'webgpu', 'cpu'] : [device];
}

/**
 * Whether onnxruntime-node's CUDA provider libraries are installed beside its binding (they are
 * downloaded by its install script with ONNXRUNTIME_NODE_INSTALL=cuda12, never bundled). `auto`
 * skips CUDA without them instead of letting ONNX Runtime print a load failure to stderr.
 */
export function cudaProviderInstalled(): boolean {
  try {
    const bin = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'bin');
    return readdirSync(bin).some((napi) => existsSync(path.join(bin, napi, process.platform, process.arch, 'libonnxruntime_providers_cuda.so')));
  } catch {
    return false;
  }
}

/**
 * Software Vulkan drivers (Mesa's lavapipe, SwiftShader) run on the CPU: WebGPU over them is a
 * slower CPU provider, so `auto` does not count them as a GPU.
 */
const SOFTWARE_ICD = /lvp|lavapipe|swiftshader|llvmpipe/i;

export interface VulkanProbeOptions {
  env?: NodeJS.ProcessEnv;
  /** Prefix of the system folders searched (tests point it at a folder of their own). */
  systemRoot?: string;
}

/**
 * Why WebGPU cannot work on this host, or undefined when it might: Dawn (inside ONNX Runtime)
 * needs the Vulkan loader `libvulkan.so.1` and at least one hardware driver manifest (ICD) where
 * the loader looks (VK_DRIVER_FILES / VK_ICD_FILENAMES, or the icd.d folders). Checked with file
 * lookups only, so `auto` on a plain CPU host neither asks ONNX Runtime (which would print a
 * Vulkan load failure on every run) nor spends time creating a session that cannot start.
 */
export function webgpuHostProblem(options: VulkanProbeOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  const root = options.systemRoot ?? '/';
  const libDirs = [
    ...(env['LD_LIBRARY_PATH'] ?? '').split(':').filter(Boolean),
    ...['usr/lib/x86_64-linux-gnu', 'usr/lib/aarch64-linux-gnu', 'lib/x86_64-linux-gnu', 'usr/lib64', 'usr/lib', 'usr/local/lib'].map((d) => path.join(root, d)),
  ];
  if (!libDirs.some((dir) => existsSync(path.join(dir, 'libvulkan.so.1')))) return 'no Vulkan loader (libvulkan.so.1) found';
  const declared = [env['VK_DRIVER_FILES'], env['VK_ICD_FILENAMES']].flatMap((v) => (v ?? '').split(':').filter(Boolean));
  const dataDirs = (env['XDG_DATA_DIRS'] || '/usr/local/share:/usr/share').split(':').filter(Boolean);
  const icdDirs = [path.join(root, 'etc/vulkan/icd.d'), ...dataDirs.map((d) => path.join(root, d, 'vulkan/icd.d'))];
  const found = declared.length > 0 ? declared.filter((f) => existsSync(f)) : icdDirs.flatMap((dir) => listJson(dir));
  const hardware = found.filter((f) => !SOFTWARE_ICD.test(path.basename(f)));
  if (hardware.length === 0) {
    return found.length > 0 ? `only software Vulkan drivers found (${found.map((f) => path.basename(f)).join(', ')})` : 'no Vulkan driver manifest (ICD .json) found';
  }
  return undefined;
}

function listJson(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .map((name) => path.join(dir, name));
  } catch {
    return [];
  }
}

/** Why `auto` skips a GPU provider without asking ONNX Runtime, or undefined to try it. */
export function autoSkipReason(device: ResolvedDevice): string | undefined {
  if (device === 'cuda' && !cudaProviderInstalled()) return 'provider libraries not installed (GPU images install them with ONNXRUNTIME_NODE_INSTALL=cuda12)';
  if (device === 'webgpu') return webgpuHostProblem();
  return undefined;
}
