import { ChurnError, describeError, isChurnError } from './churn-error';

describe('ChurnError', () => {
  it('classifies bad input as permanent and I/O as retryable', () => {
    expect(new ChurnError('CORRUPT_INPUT', 'x').retryable).toBe(false);
    expect(new ChurnError('CONTRACT_VIOLATION', 'x').retryable).toBe(false);
    expect(new ChurnError('IO_ERROR', 'x').retryable).toBe(true);
  });

  it('keeps cause, details and code', () => {
    const cause = new Error('disk full');
    const err = new ChurnError('IO_ERROR', 'cannot write part', { cause, details: { uri: 'file:///x' } });
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ uri: 'file:///x' });
    expect(isChurnError(err, 'IO_ERROR')).toBe(true);
    expect(isChurnError(err, 'CORRUPT_INPUT')).toBe(false);
    expect(describeError(err)).toBe('IO_ERROR: cannot write part');
    expect(describeError('plain')).toBe('plain');
  });
});
