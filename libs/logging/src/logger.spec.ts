import { Writable } from 'node:stream';
import { ChurnError } from '@churn/errors';
import { createLogger, logSettingsFromEnv, type LogSettings } from './logger';

/** A stream that keeps what was written, split into lines. */
function sink(): { stream: Writable; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter((l) => l !== '') };
}

const json: LogSettings = { format: 'json', level: 'info', colorize: false };

describe('createLogger', () => {
  it('writes one JSON object per line with a level label, an ISO time, the name, the fields and msg', () => {
    const out = sink();
    const log = createLogger({ name: 'churn-worker', settings: json, output: out.stream });
    log.info('worker ready: queue churn:churn-shards');
    log.child({ runId: 'run_abc', attempt: 2 }).child({ shard: 3, jobId: 'shard__run_abc__a2__00003', model: 'churn-mlp-1.0.0' }).warn('shard job failed', { code: 'IO_ERROR', retry: true, absent: undefined });
    const [ready, failed] = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(ready).toEqual({ level: 'info', time: expect.any(String), pid: process.pid, hostname: expect.any(String), name: 'churn-worker', msg: 'worker ready: queue churn:churn-shards' });
    expect(new Date(String(ready!['time'])).toISOString()).toBe(ready!['time']);
    expect(failed).toEqual({
      level: 'warn',
      time: expect.any(String),
      pid: process.pid,
      hostname: expect.any(String),
      name: 'churn-worker',
      runId: 'run_abc',
      attempt: 2,
      shard: 3,
      jobId: 'shard__run_abc__a2__00003',
      model: 'churn-mlp-1.0.0',
      code: 'IO_ERROR',
      retry: true,
      msg: 'shard job failed',
    });
  });

  it('drops lines below the level', () => {
    const out = sink();
    const log = createLogger({ name: 'churn-producer', settings: { ...json, level: 'warn' }, output: out.stream });
    log.debug('d');
    log.info('i');
    log.at('warn')('w');
    log.error('e');
    expect(out.lines().map((l) => (JSON.parse(l) as { level: string; msg: string }).level)).toEqual(['warn', 'error']);
  });

  it('runs the message and every string field through redact before writing, JSON-special characters included', () => {
    const secret = 'pa"ss\\w0rd';
    const out = sink();
    const log = createLogger({ name: 'churn-worker', settings: json, output: out.stream, redact: (t) => t.split(secret).join('***') });
    log.child({ url: `redis://u:${secret}@h:6379` }).error(`AUTH failed for ${secret}`, { detail: `with ${secret}` });
    const [line] = out.lines();
    expect(line).not.toContain('pa"ss');
    expect(line).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(JSON.parse(line!)).toMatchObject({ url: 'redis://u:***@h:6379', detail: 'with ***', msg: 'AUTH failed for ***' });
  });

  it('writes the pretty form on one line per message: time, level, name, msg, then the fields', () => {
    const out = sink();
    const log = createLogger({ name: 'churn-worker', settings: { format: 'pretty', level: 'info', colorize: false }, output: out.stream });
    log.child({ runId: 'run_abc', shard: 0 }).info('shard job x started (attempt 1)');
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d\d\d\] INFO \(churn-worker\): shard job x started \(attempt 1\) \{"runId":"run_abc","shard":0\}$/);
  });
});

describe('logSettingsFromEnv', () => {
  it('is pretty on a terminal and JSON otherwise, at info, unless the environment says', () => {
    expect(logSettingsFromEnv({}, true)).toEqual({ format: 'pretty', level: 'info', colorize: true });
    expect(logSettingsFromEnv({}, false)).toEqual({ format: 'json', level: 'info', colorize: false });
    expect(logSettingsFromEnv({ CHURN_LOG_FORMAT: 'json', CHURN_LOG_LEVEL: 'debug' }, true)).toEqual({ format: 'json', level: 'debug', colorize: true });
    expect(logSettingsFromEnv({ CHURN_LOG_FORMAT: 'pretty', CHURN_LOG_LEVEL: '' }, false)).toEqual({ format: 'pretty', level: 'info', colorize: false });
    expect(logSettingsFromEnv({ NO_COLOR: '1' }, true)).toEqual({ format: 'pretty', level: 'info', colorize: false });
  });

  it('refuses an unknown format or level, naming the variable and the choices', () => {
    const refused = (env: NodeJS.ProcessEnv) => {
      try {
        logSettingsFromEnv(env, false);
      } catch (error) {
        return error;
      }
      throw new Error('accepted');
    };
    const format = refused({ CHURN_LOG_FORMAT: 'text' });
    expect(format).toBeInstanceOf(ChurnError);
    expect(format).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'CHURN_LOG_FORMAT must be one of json, pretty, got "text"', details: { variable: 'CHURN_LOG_FORMAT' } });
    expect(refused({ CHURN_LOG_LEVEL: 'verbose' })).toMatchObject({ code: 'INVALID_ARGUMENT', details: { variable: 'CHURN_LOG_LEVEL' } });
  });
});
