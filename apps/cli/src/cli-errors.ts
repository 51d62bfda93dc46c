import type { Command } from 'commander';
import { toChurnError, type ChurnError } from '@churn/errors';

/**
 * The command-line flag of each setting a library error may name (`ChurnError.settings`).
 * Libraries speak in settings; only the CLI knows flags, and only those of the command that ran
 * are suggested.
 */
const SETTING_FLAGS: Readonly<Record<string, string>> = {
  asOf: '--as-of',
  batchRows: '--batch-rows',
  concurrency: '--concurrency',
  cron: '--cron',
  device: '--device',
  explain: '--explain',
  explainBaseline: '--explain-baseline',
  explainMethod: '--explain-method',
  explainSpace: '--explain-space',
  from: '--from',
  maxBadRowFraction: '--max-bad-fraction',
  maxConcurrentRuns: '--max-concurrent-runs',
  maxRows: '--max-rows',
  metricsPort: '--metrics-port',
  model: '--model',
  onDrift: '--on-drift',
  output: '--output',
  permutations: '--permutations',
  pricePerDeviceHour: '--price-per-device-hour',
  psiAlert: '--psi-alert',
  psiWarn: '--psi-warn',
  replace: '--replace',
  shardRows: '--shard-rows',
  timeout: '--timeout',
  to: '--to',
  tz: '--tz',
  warehouse: '--warehouse',
  warehouseSchema: '--warehouse-schema',
};

/** The flags, among those `command` accepts, that change the settings an error names. */
export function flagsFor(settings: readonly string[], command: Command | undefined): string[] {
  if (!command) return [];
  const accepted = new Set(command.options.map((o) => o.long).filter((f): f is string => Boolean(f)));
  return [...new Set(settings.map((s) => SETTING_FLAGS[s]).filter((f): f is string => f !== undefined && accepted.has(f)))];
}

/** One line for stderr: `error [CODE]: message`, plus the flags of this command that apply. */
export function renderError(error: ChurnError, command: Command | undefined): string {
  const flags = flagsFor(error.settings, command);
  const suggestion = flags.length > 0 ? ` (see ${flags.join(', ')})` : '';
  const stack = error.code === 'INTERNAL' && error.cause instanceof Error && error.cause.stack ? `\n${error.cause.stack}` : '';
  return `error [${error.code}]: ${error.message}${suggestion}${stack}`;
}

export { toChurnError };
