// A shard worker thread for the executor's tests: it speaks the real protocol (ready, progress,
// done, failed) without scoring, and fails on purpose by the shard's file name, the ways a real
// scoring thread dies: `exit` (the thread exits mid-shard), `uncaught` (an error escapes),
// `trap` (a decoder trap reported, then the thread exits), `init` (the thread cannot start).
const { parentPort, workerData } = require('node:worker_threads');

if (String(workerData.run.runId).includes('init-fails')) {
  parentPort.postMessage({ type: 'init-failed', error: { code: 'INVALID_BUNDLE', message: 'cannot load the model', details: {}, settings: [] } });
} else {
  parentPort.on('message', (message) => {
    if (message.type === 'close') return parentPort.close();
    const { id, shard } = message;
    if (shard.file.includes('exit')) process.exit(3);
    if (shard.file.includes('uncaught')) return setImmediate(() => { throw new Error('boom in the thread'); });
    if (shard.file.includes('trap')) {
      parentPort.postMessage({ type: 'failed', id, recycle: true, error: { code: 'CORRUPT_INPUT', message: `cannot decode ${shard.file}`, details: {}, settings: [] } });
      return setImmediate(() => process.exit(1));
    }
    parentPort.postMessage({ type: 'progress', id, rows: Math.floor(shard.rows / 2) });
    parentPort.postMessage({
      type: 'done',
      id,
      outcome: {
        index: shard.index, attempt: workerData.run.attempt, device: 'cpu', file: shard.file, rowGroups: shard.rowGroups, firstRow: shard.firstRow,
        rowsRead: shard.rows, rowsScored: shard.rows, rowsQuarantined: 0, rowsIneligible: 0, quarantineReasons: {}, bandCounts: { low: shard.rows },
        scoreHistogram: new Array(20).fill(0), scoreSum: 0, rowsExplained: 0, modelEvaluations: 0, timingsMs: {}, cpuMs: 0,
      },
    });
  });
  parentPort.postMessage({ type: 'ready', device: 'cpu', deviceFallbacks: [], batchRows: 65536 });
}
