import { Option, type Command } from 'commander';
import { createObjectStore } from '@churn/object-store';
import { DRIFT_SCENARIOS, DRIFT_SCENARIO_INFO, writeSynthDataset, type DriftScenario } from '@churn/synth-data';
import type { CliIo } from '../cli-io';
import { fmt, fraction, nonNegativeInt, positiveInt } from '../cli-options';

export function registerSynthCommand(program: Command, io: CliIo): void {
  program
    .command('synth')
    .description('generate a synthetic customer snapshot (Parquet) with a documented churn process')
    .requiredOption('--customers <n>', 'number of customers', positiveInt)
    .requiredOption('--as-of <date>', 'snapshot date, YYYY-MM-DD')
    .requiredOption('--out <uri>', 'dataset root; files go to <out>/as_of=<date>/')
    .option('--seed <n>', 'random seed (same seed, same bytes)', nonNegativeInt, 42)
    .option('--files <k>', 'number of Parquet files', positiveInt, 4)
    .option('--dirty <fraction>', 'inject realistic faults into about this fraction of rows', fraction, 0)
    .addOption(new Option('--drift <scenario>', 'apply a documented drift scenario (docs/synthetic-data.md)').choices(DRIFT_SCENARIOS))
    .action(async (options: { customers: number; asOf: string; out: string; seed: number; files: number; dirty: number; drift?: DriftScenario }) => {
      const started = performance.now();
      const result = await writeSynthDataset(createObjectStore(), options.out, {
        customers: options.customers,
        asOf: options.asOf,
        seed: options.seed,
        files: options.files,
        dirty: options.dirty,
        ...(options.drift ? { drift: options.drift } : {}),
      });
      const seconds = (performance.now() - started) / 1000;
      if (options.drift) io.err(`drift scenario ${options.drift}: ${DRIFT_SCENARIO_INFO[options.drift].summary}`);
      io.err(`wrote ${fmt(result.rows)} customers in ${result.files.length} file(s) to ${result.partitionUri} in ${seconds.toFixed(1)}s`);
      io.out(JSON.stringify({ partition: result.partitionUri, rows: result.rows, ...(options.drift ? { drift: options.drift } : {}), files: result.files }));
    });
}
