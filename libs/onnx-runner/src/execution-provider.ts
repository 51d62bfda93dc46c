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
 * Execution providers to try, in order. `auto` prefers CUDA and falls back to CPU; WebGPU is only
 * used when asked for, since it needs Vulkan and a real GPU and is slower than CUDA for MLPs.
 */
export function candidateDevices(device: Device): ResolvedDevice[] {
  return device === 'auto' ? ['cuda', 'cpu'] : [device];
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
