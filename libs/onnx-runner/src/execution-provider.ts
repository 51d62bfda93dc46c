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
