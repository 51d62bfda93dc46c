import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ChurnError, describeError, deserializeError, isChurnError, serializeError, toChurnError } from './churn-error';
import { ERROR_CODES, ERROR_POLICY, exitCodeOf } from './error-policy';

describe('ChurnError', () => {
  it('classifies bad input as permanent and I/O as retryable, from the one table', () => {
    expect(new ChurnError('CORRUPT_INPUT', 'x').retryable).toBe(false);
    expect(new ChurnError('CONTRACT_VIOLATION', 'x').retryable).toBe(false);
    expect(new ChurnError('IO_ERROR', 'x').retryable).toBe(true);
    expect(new ChurnError('SCORING_THREAD_CRASHED', 'x').retry).toBe('backoff');
    expect(new ChurnError('INVALID_BUNDLE', 'x').exitCode).toBe(6);
  });

  it('keeps cause, details, settings and code', () => {
    const cause = new Error('disk full');
    const err = new ChurnError('IO_ERROR', 'cannot write part', { cause, details: { uri: 'file:///x' }, settings: ['output'] });
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ uri: 'file:///x' });
    expect(err.settings).toEqual(['output']);
    expect(isChurnError(err, 'IO_ERROR')).toBe(true);
    expect(isChurnError(err, 'CORRUPT_INPUT')).toBe(false);
    expect(describeError(err)).toBe('IO_ERROR: cannot write part');
    expect(describeError('plain')).toBe('plain');
  });

  it('survives serialization as data, code included; anything else becomes INTERNAL', () => {
    const err = new ChurnError('CONTRACT_VIOLATION', 'too many bad rows', { details: { file: 'f', badRows: 9 }, settings: ['maxBadRowFraction'] });
    const back = deserializeError(JSON.parse(JSON.stringify(serializeError(err))));
    expect(back).toBeInstanceOf(ChurnError);
    expect(back).toMatchObject({ code: 'CONTRACT_VIOLATION', message: 'too many bad rows', details: { file: 'f', badRows: 9 }, settings: ['maxBadRowFraction'] });
    expect(serializeError(new TypeError('boom'))).toMatchObject({ code: 'INTERNAL', message: 'boom', details: { name: 'TypeError' } });
    expect(deserializeError({ code: 'NOT_A_CODE', message: 'x' }).code).toBe('INTERNAL');
    expect(toChurnError(new Error('y')).code).toBe('INTERNAL');
    expect(toChurnError(err)).toBe(err);
  });

  it("keeps the code of a ChurnError thrown by another bundle's copy of this module", () => {
    let Foreign: typeof ChurnError = ChurnError;
    jest.isolateModules(() => {
      Foreign = (require('./churn-error') as { ChurnError: typeof ChurnError }).ChurnError;
    });
    expect(Foreign).not.toBe(ChurnError);
    const adopted = toChurnError(new Foreign('QUEUE_UNAVAILABLE', 'Redis at redis://h:1 is not reachable', { details: { port: 1 }, settings: ['metricsPort'] }));
    expect(adopted).toBeInstanceOf(ChurnError);
    expect(adopted).toMatchObject({ code: 'QUEUE_UNAVAILABLE', exitCode: 14, message: 'Redis at redis://h:1 is not reachable', details: { port: 1 }, settings: ['metricsPort'] });
  });
});

describe('the error table', () => {
  it('gives usage errors 2, every other code a distinct non-zero exit code', () => {
    expect(exitCodeOf('INVALID_ARGUMENT')).toBe(2);
    const codes = ERROR_CODES.map((c) => ERROR_POLICY[c].exitCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toBeGreaterThan(1);
    for (const c of ERROR_CODES) expect(ERROR_POLICY[c].hint.length).toBeGreaterThan(10);
  });

  it('is documented: docs/operations.md lists every code with its exit code and retry policy', () => {
    const doc = readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'operations.md'), 'utf8');
    for (const code of ERROR_CODES) {
      const { exitCode, retry } = ERROR_POLICY[code];
      expect(doc).toMatch(new RegExp(`\\| \`${code}\` \\| ${exitCode} \\| ${retry} \\|`));
    }
  });
});
