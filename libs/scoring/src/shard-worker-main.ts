/**
 * Entry point of a shard worker thread. Apps bundle this file as their worker script (see
 * tools/build.mjs); the thread builds its own scoring context (ONNX session, wasm reader) and
 * scores the shards it is sent, so Parquet decoding, validation and encoding use every core and
 * never block the main thread's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createObjectStore } from '@churn/object-store';
import { partitionLayout } from '@churn/warehouse';
import { modelId } from '@churn/model-bundle';
import { summarizeExplain } from './explain-config';
import { createScoringContext, type ScoringContext } from './scoring-context';
import { scoreShard } from './score-shard';
import { serializeError, type FromWorker, type ShardWorkerInit, type ToWorker } from './shard-worker-protocol';

const port = parentPort;
if (!port) throw new Error('shard-worker-main must run in a worker thread');
const send = (message: FromWorker) => port.postMessage(message);

async function start(init: ShardWorkerInit): Promise<ScoringContext> {
  return createScoringContext({
    store: createObjectStore(),
    bundle: init.bundle,
    run: { ...init.run, scoredAt: new Date(init.run.scoredAt) },
    layout: partitionLayout(init.output, init.run.asOf, modelId(init.bundle.manifest)),
    settings: init.settings,
    intraOpThreads: init.intraOpThreads,
  });
}

start(workerData as ShardWorkerInit).then(
  (ctx) => {
    port.on('message', (message: ToWorker) => {
      if (message.type === 'close') {
        void ctx.scorer.release().finally(() => port.close());
        return;
      }
      scoreShard(ctx, message.shard).then(
        (outcome) => send({ type: 'done', id: message.id, outcome }),
        (error: unknown) => send({ type: 'failed', id: message.id, error: serializeError(error) }),
      );
    });
    send({ type: 'ready', device: ctx.device, batchRows: ctx.scorer.batchRows, maxBadRowFraction: ctx.maxBadRowFraction, explain: summarizeExplain(ctx.explain) });
  },
  (error: unknown) => send({ type: 'init-failed', error: serializeError(error) }),
);
