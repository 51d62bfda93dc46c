/**
 * Entry point of a shard worker thread. Apps bundle this file as their worker script (see
 * tools/build.mjs); the thread builds its own scoring context (ONNX session, wasm reader) and
 * scores the shards it is sent, so Parquet decoding, validation and encoding use every core and
 * never block the main thread's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ChurnError, serializeError } from '@churn/errors';
import { createObjectStore } from '@churn/object-store';
import { createScoringContext, type ScoringContext } from './scoring-context';
import { scoreShard } from './score-shard';
import { poisonsThread, shardWorkerInitSchema, toWorkerSchema, type FromWorker } from './shard-worker-protocol';

const port = parentPort;
if (!port) throw new Error('shard-worker-main must run in a worker thread');
const send = (message: FromWorker) => port.postMessage(message);

async function start(data: unknown): Promise<ScoringContext> {
  const parsed = shardWorkerInitSchema.safeParse(data);
  if (!parsed.success) throw new ChurnError('INTERNAL', `shard worker started with invalid data: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  const init = parsed.data;
  return createScoringContext({ store: createObjectStore(), bundle: init.bundle, run: init.run, intraOpThreads: init.intraOpThreads });
}

/**
 * Messages are taken from the start, so `exit` works while the context is still being built;
 * `score` and `close` wait for it. Every message is handled between ONNX Runtime's synchronous
 * native calls (loading the model, each batch), which is what makes `exit` safe where a
 * `worker.terminate()` from outside, or the process exiting, can land inside one and abort the
 * process.
 */
const context = start(workerData);
context.then(
  (ctx) => send({ type: 'ready', device: ctx.device, deviceFallbacks: [...ctx.scorer.fallbacks], batchRows: ctx.scorer.batchRows }),
  (error: unknown) => send({ type: 'init-failed', error: serializeError(error) }),
);

port.on('message', (raw: unknown) => {
  const parsed = toWorkerSchema.safeParse(raw);
  if (!parsed.success) return;
  const message = parsed.data;
  if (message.type === 'exit') {
    process.exit(0);
  }
  void context.then((ctx) => {
    if (message.type === 'close') {
      void ctx.scorer.release().finally(() => port.close());
      return;
    }
    scoreShard(ctx, message.shard, (rows, batch) => send({ type: 'progress', id: message.id, rows, ...(batch ? { batch } : {}) })).then(
      (outcome) => send({ type: 'done', id: message.id, outcome }),
      (error: unknown) => {
        const recycle = poisonsThread(error);
        send({ type: 'failed', id: message.id, error: serializeError(error), recycle });
        // A trapped WebAssembly instance cannot be trusted with the next shard.
        if (recycle) setImmediate(() => process.exit(1));
      },
    );
  }, () => undefined);
});
