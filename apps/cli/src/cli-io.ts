/** Where a command writes: stdout for results, stderr for logs and progress. Injected for tests. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Whether stderr is an interactive terminal (progress lines are drawn only then). */
  isTty: boolean;
  /** Redraws the current progress line (TTY only). */
  progress: (line: string) => void;
}

/**
 * `churn query ... | head -1`: once the reader has what it wants and closes the pipe, writes to
 * stdout fail with EPIPE. That is the reader saying "enough", not a failure: exit 0 quietly
 * instead of crashing with a stack. Any other stdout error stays fatal.
 */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream = process.stdout, exit: (code: number) => void = (code) => process.exit(code)): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    exit(0);
  });
}

export function processIo(): CliIo {
  exitQuietlyOnClosedPipe();
  const isTty = Boolean(process.stderr.isTTY);
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${isTty ? '\r\x1b[K' : ''}${line}\n`),
    isTty,
    progress: (line) => {
      if (isTty) process.stderr.write(`\r\x1b[K${line}`);
    },
  };
}
