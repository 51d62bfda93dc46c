import { hostname } from 'node:os';
import pino, { type DestinationStream } from 'pino';
import { z } from 'zod';
import { ChurnError } from '@churn/errors';

/** How log lines are written: one JSON object per line, or pino-pretty's human form. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** pino's levels, lowest last; `silent` writes nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The levels a message is written at (the ones the apps use). */
export type MessageLevel = Extract<LogLevel, 'error' | 'warn' | 'info' | 'debug'>;

export interface LogSettings {
  format: LogFormat;
  level: LogLevel;
  /** Colours in the pretty form: only on a terminal, and not with NO_COLOR set. */
  colorize: boolean;
}

const formatSchema = z.enum(LOG_FORMATS);
const levelSchema = z.enum(LOG_LEVELS);

/**
 * The log settings from `CHURN_LOG_FORMAT` (`json` or `pretty`; default: pretty when the log
 * stream is a terminal, else JSON) and `CHURN_LOG_LEVEL` (default `info`); `NO_COLOR` turns off
 * the pretty form's colours.
 */
export function logSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, isTty = Boolean(process.stdout.isTTY)): LogSettings {
  const raw = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const format = raw('CHURN_LOG_FORMAT');
  const level = raw('CHURN_LOG_LEVEL');
  const parsedFormat = formatSchema.safeParse(format ?? (isTty ? 'pretty' : 'json'));
  if (!parsedFormat.success) {
    throw new ChurnError('INVALID_ARGUMENT', `CHURN_LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}, got "${format}"`, { details: { variable: 'CHURN_LOG_FORMAT', allowed: [...LOG_FORMATS] } });
  }
  const parsedLevel = levelSchema.safeParse(level ?? 'info');
  if (!parsedLevel.success) {
    throw new ChurnError('INVALID_ARGUMENT', `CHURN_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`, { details: { variable: 'CHURN_LOG_LEVEL', allowed: [...LOG_LEVELS] } });
  }
  return { format: parsedFormat.data, level: parsedLevel.data, colorize: isTty && !raw('NO_COLOR') };
}

/**
 * Fields of a line. The known ones are the correlation keys an operator filters on: the run,
 * its attempt, the shard index, the model (`name-version`) and the BullMQ job.
 */
export interface LogFields {
  runId?: string;
  attempt?: number;
  shard?: number;
  model?: string;
  jobId?: string;
  [field: string]: string | number | boolean | undefined;
}

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  /** A logger whose every line also carries these fields (later ones win). */
  child(fields: LogFields): Logger;
  /** A `(message) => void` at one level: what libs that take a `log` callback get. */
  at(level: MessageLevel): (message: string) => void;
}

export interface LoggerOptions {
  /** The process, e.g. `churn-worker`: the `name` field. */
  name: string;
  /** Default: logSettingsFromEnv() for stdout. */
  settings?: LogSettings;
  /**
   * Applied to the message and every string field before anything is written: how secrets
   * (the Redis password) are kept out (the apps pass redactSecrets of their connection).
   */
  redact?: (text: string) => string;
  /** Where lines go; default stdout, written synchronously (nothing lost on process.exit). */
  output?: DestinationStream;
}

/** The stream lines are written to: JSON as is, or through pino-pretty in the same thread. */
function streamOf(settings: LogSettings, output: DestinationStream | undefined): DestinationStream {
  if (settings.format === 'json') return output ?? pino.destination({ fd: 1, sync: true });
  // Loaded only for the pretty form. A synchronous stream, not a `transport` (a worker thread
  // that loads its target by name, which the bundles do not ship and process.exit cuts short).
  const pretty = require('pino-pretty') as typeof import('pino-pretty');
  return pretty({
    sync: true,
    destination: output ?? 1,
    colorize: settings.colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
}

/**
 * A structured logger (pino): each line has `level` (a label: `info`, `warn`, ...), `time` (ISO
 * 8601, UTC), `pid`, `hostname`, `name`, the fields of the logger and of the call, and `msg`.
 */
export function createLogger(options: LoggerOptions): Logger {
  const settings = options.settings ?? logSettingsFromEnv();
  const redact = options.redact ?? ((text: string) => text);
  const root = pino(
    {
      name: options.name,
      level: settings.level,
      base: { pid: process.pid, hostname: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    streamOf(settings, options.output),
  );
  const clean = (fields: LogFields | undefined): Record<string, string | number | boolean> => {
    const out: Record<string, string | number | boolean> = {};
    for (const [key, value] of Object.entries(fields ?? {})) {
      if (value !== undefined) out[key] = typeof value === 'string' ? redact(value) : value;
    }
    return out;
  };
  const wrap = (p: pino.Logger): Logger => {
    const write = (level: MessageLevel) => (msg: string, fields?: LogFields) => p[level](clean(fields), redact(msg));
    const logger: Logger = {
      error: write('error'),
      warn: write('warn'),
      info: write('info'),
      debug: write('debug'),
      child: (fields) => wrap(p.child(clean(fields))),
      at: (level) => (message) => logger[level](message),
    };
    return logger;
  };
  return wrap(root);
}
