/**
 * Queue processes (worker, producer) drain on SIGTERM or SIGINT: `close` stops taking jobs and
 * lets active ones finish; the process then exits 0 (1 if closing failed).
 */
export function closeOnSignals(close: () => Promise<void>): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
