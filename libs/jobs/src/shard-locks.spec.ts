import { churnErrorOf } from '@churn/testing';
import { shardLockSettingsFromEnv, takeoverBoundMs } from './shard-locks';

describe('shard lock settings', () => {
  it('hand a vanished worker\'s shard back within 20 s by default, under the 30 s bound', () => {
    const settings = shardLockSettingsFromEnv({});
    expect(settings).toEqual({ lockDuration: 15_000, stalledInterval: 5_000, maxStalledCount: 2 });
    expect(takeoverBoundMs(settings)).toBe(20_000);
  });

  it('take each setting from the environment', () => {
    expect(shardLockSettingsFromEnv({ CHURN_LOCK_DURATION_MS: '3000', CHURN_STALLED_INTERVAL_MS: '1000', CHURN_MAX_STALLED_COUNT: '0' })).toEqual({ lockDuration: 3000, stalledInterval: 1000, maxStalledCount: 0 });
  });

  it('refuse a stall check slower than the lock, and nonsense counts, naming the variable', async () => {
    const slow = await churnErrorOf(() => shardLockSettingsFromEnv({ CHURN_LOCK_DURATION_MS: '3000', CHURN_STALLED_INTERVAL_MS: '5000' }));
    expect(slow.code).toBe('INVALID_ARGUMENT');
    expect(slow.message).toMatch(/CHURN_STALLED_INTERVAL_MS \(5000\) is longer than CHURN_LOCK_DURATION_MS \(3000\)/);
    for (const bad of ['-1', '1.5', 'many']) {
      const error = await churnErrorOf(() => shardLockSettingsFromEnv({ CHURN_MAX_STALLED_COUNT: bad }));
      expect(error.message).toBe(`CHURN_MAX_STALLED_COUNT must be a whole number of at least 0, got "${bad}"`);
    }
  });
});
