/**
 * Preloaded into a benchmarked child process (`node --require dist/bench/rusage-preload.js ...`):
 * when the process exits, writes its own resource usage (all threads: CPU seconds, peak RSS) as
 * JSON to the file named by CHURN_BENCH_RUSAGE_FILE. The parent measures wall time itself.
 */
import { writeFileSync } from 'node:fs';

const file = process.env['CHURN_BENCH_RUSAGE_FILE'];
if (file) {
  process.on('exit', (code) => {
    const usage = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ code, userSeconds: usage.userCPUTime / 1e6, systemSeconds: usage.systemCPUTime / 1e6, maxRssKb: usage.maxRSS }));
  });
}
