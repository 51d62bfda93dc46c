import { ChurnError } from '@churn/errors';

/**
 * Awaits work that must fail with a ChurnError (a promise, or a function that throws or
 * rejects) and returns that error, so a test can assert on its code, message and details.
 * Fails the test on success or on any other error.
 */
export async function churnErrorOf(work: Promise<unknown> | (() => unknown)): Promise<ChurnError> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (error) {
    if (error instanceof ChurnError) return error;
    throw new Error(`expected a ChurnError, got ${String(error)}`);
  }
  throw new Error('expected a rejection');
}
