import { runPool } from './async-pool';

/** A promise the test settles by hand, so ordering is controlled without timers. */
interface Gate<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function gate<T>(): Gate<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('runPool', () => {
  it('never has more than `concurrency` items in flight and uses all lanes', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const items = Array.from({ length: 20 }, (_, i) => i);
    const results = await runPool(items, 3, async (item) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Uneven amounts of asynchronous work per item.
      for (let i = 0; i < (item * 7) % 5; i++) await Promise.resolve();
      inFlight--;
      return item * 2;
    });
    expect(maxInFlight).toBe(3);
    expect(results).toEqual(items.map((i) => i * 2));
  });

  it('returns results in input order even when items finish out of order', async () => {
    const gates = [gate<string>(), gate<string>(), gate<string>()];
    const started: number[] = [];
    const pool = runPool([0, 1, 2], 3, (i) => {
      started.push(i);
      return gates[i]!.promise;
    });
    await flush();
    expect(started).toEqual([0, 1, 2]);
    gates[2]!.resolve('c');
    gates[0]!.resolve('a');
    gates[1]!.resolve('b');
    await expect(pool).resolves.toEqual(['a', 'b', 'c']);
  });

  it('starts the next item as soon as a lane frees up', async () => {
    const gates = Array.from({ length: 4 }, () => gate<number>());
    const started: number[] = [];
    const pool = runPool([0, 1, 2, 3], 2, (i) => {
      started.push(i);
      return gates[i]!.promise;
    });
    await flush();
    expect(started).toEqual([0, 1]);
    gates[1]!.resolve(1);
    await flush();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.resolve(0);
    await flush();
    expect(started).toEqual([0, 1, 2, 3]);
    gates[2]!.resolve(2);
    gates[3]!.resolve(3);
    await expect(pool).resolves.toEqual([0, 1, 2, 3]);
  });

  it('stops starting work after a failure, waits for the items in flight, and rethrows the error', async () => {
    const gates = Array.from({ length: 6 }, () => gate<number>());
    const started: number[] = [];
    const failure = new Error('shard 1 failed');
    const pool = runPool([0, 1, 2, 3, 4, 5], 2, (i) => {
      started.push(i);
      return gates[i]!.promise;
    });
    let settled = false;
    pool.then(
      () => (settled = true),
      () => (settled = true),
    );
    await flush();
    expect(started).toEqual([0, 1]);
    gates[1]!.reject(failure);
    await flush();
    // No new item starts, and the pool waits for item 0, still in flight.
    expect(started).toEqual([0, 1]);
    expect(settled).toBe(false);
    gates[0]!.resolve(0);
    await expect(pool).rejects.toBe(failure);
    expect(started).toEqual([0, 1]);
  });

  it('rethrows the first failure when several items fail', async () => {
    const first = new Error('first');
    const gates = [gate<number>(), gate<number>()];
    const pool = runPool([0, 1], 2, (i) => gates[i]!.promise);
    await flush();
    gates[1]!.reject(first);
    await flush();
    gates[0]!.reject(new Error('second'));
    await expect(pool).rejects.toBe(first);
  });

  it('handles a synchronous throw from work like a rejection', async () => {
    const started: number[] = [];
    const pool = runPool([0, 1, 2, 3], 1, (i) => {
      started.push(i);
      if (i === 1) throw new Error('sync');
      return Promise.resolve(i);
    });
    await expect(pool).rejects.toThrow('sync');
    expect(started).toEqual([0, 1]);
  });

  it('returns [] for no items, and treats a concurrency below 1 as 1', async () => {
    let calls = 0;
    await expect(
      runPool([], 4, () => {
        calls++;
        return Promise.resolve(0);
      }),
    ).resolves.toEqual([]);
    expect(calls).toBe(0);

    let inFlight = 0;
    let maxInFlight = 0;
    const results = await runPool([1, 2, 3], 0, async (i) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await Promise.resolve();
      inFlight--;
      return i;
    });
    expect(results).toEqual([1, 2, 3]);
    expect(maxInFlight).toBe(1);
  });

  it('runs every item once with more lanes than items', async () => {
    const seen: number[] = [];
    const results = await runPool([5, 6], 8, async (i) => {
      seen.push(i);
      await Promise.resolve();
      return -i;
    });
    expect(seen).toEqual([5, 6]);
    expect(results).toEqual([-5, -6]);
  });
});
