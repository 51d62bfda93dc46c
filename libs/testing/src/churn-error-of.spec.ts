import { ChurnError } from '@churn/errors';
import { churnErrorOf } from './churn-error-of';

describe('churnErrorOf', () => {
  it('returns the ChurnError a promise rejects with', async () => {
    const error = await churnErrorOf(Promise.reject(new ChurnError('IO_ERROR', 'disk full')));
    expect(error.code).toBe('IO_ERROR');
  });

  it('fails on success and on other errors', async () => {
    await expect(churnErrorOf(Promise.resolve(1))).rejects.toThrow('expected a rejection');
    await expect(churnErrorOf(Promise.reject(new Error('plain')))).rejects.toThrow('expected a ChurnError, got Error: plain');
  });
});

describe('churnErrorOf with a function', () => {
  it('catches synchronous throws and async rejections', async () => {
    expect((await churnErrorOf(() => { throw new ChurnError('INVALID_ARGUMENT', 'x'); })).code).toBe('INVALID_ARGUMENT');
    expect((await churnErrorOf(async () => Promise.reject(new ChurnError('IO_ERROR', 'y')))).code).toBe('IO_ERROR');
  });
});
