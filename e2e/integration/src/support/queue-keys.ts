import { Redis } from 'ioredis';

/** Deletes every key under a test's private queue prefix on the local Redis. */
export async function deleteQueueKeys(prefix: string): Promise<void> {
  const redis = new Redis({ host: '127.0.0.1', port: 6379 });
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
}
