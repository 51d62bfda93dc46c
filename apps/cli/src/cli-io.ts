/** Where a command writes: stdout for results, stderr for logs and progress. Injected for tests. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Whether stderr is an interactive terminal (progress lines are drawn only then). */
  isTty: boolean;
  /** Redraws the current progress line (TTY only). */
  progress: (line: string) => void;
}

export function processIo(): CliIo {
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
