import { ChurnError } from '@churn/errors';
import { clientConnectionOptions, queueError } from './queue-connect';
import { queueConnectionFromEnv } from './redis-connection';

const conn = queueConnectionFromEnv({ REDIS_URL: 'redis://scorer:s3cret@10.1.2.3:6390', CHURN_CONNECT_TIMEOUT_MS: '50' });

describe('queueError', () => {
  it('turns a lost connection into QUEUE_UNAVAILABLE naming host and port, without the password', () => {
    for (const message of ['Connection is closed.', "Stream isn't writeable and enableOfflineQueue options is false", 'Command timed out', 'read ECONNRESET', 'AUTH s3cret: connect ECONNREFUSED 10.1.2.3:6390']) {
      const error = queueError(conn, new Error(message)) as ChurnError;
      expect(error).toBeInstanceOf(ChurnError);
      expect(error.code).toBe('QUEUE_UNAVAILABLE');
      expect(error.message).toMatch(/^lost the connection to Redis at redis:\/\/10\.1\.2\.3:6390: /);
      expect(error.message).not.toContain('s3cret');
      expect(error.details).toEqual({ host: '10.1.2.3', port: 6390, db: 0, tls: false });
    }
  });

  it('leaves other errors as they are', () => {
    const own = new ChurnError('INPUT_NOT_FOUND', 'no run');
    const other = new TypeError('x is undefined');
    expect(queueError(conn, own)).toBe(own);
    expect(queueError(conn, other)).toBe(other);
  });
});

describe('clientConnectionOptions', () => {
  it('fails fast: no offline queue, bounded connect and replies, and no reconnecting past the bound', async () => {
    const options = clientConnectionOptions(conn, { CHURN_COMMAND_TIMEOUT_MS: '7000' });
    expect(options).toMatchObject({ host: '10.1.2.3', port: 6390, connectTimeout: 50, commandTimeout: 7000, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    expect(options.retryStrategy!(1)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(options.retryStrategy!(2)).toBeNull();
  });
});
