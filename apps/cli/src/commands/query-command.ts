import type { Command } from 'commander';
import { createObjectStore } from '@churn/object-store';
import { queryScores } from '@churn/warehouse';
import type { CliIo } from '../cli-io';
import { renderTable } from '../cli-options';

export function registerQueryCommand(program: Command, io: CliIo): void {
  program
    .command('query')
    .description('run SQL in embedded DuckDB over the committed partitions of a score table (view `scores`)')
    .argument('<sql>', 'SQL to run, e.g. "SELECT risk_band, count(*) FROM scores GROUP BY 1"')
    .requiredOption('--scores <uri>', 'score table root (the --output of churn score)')
    .option('--json', 'print one JSON object per row instead of a table')
    .action(async (sql: string, options: { scores: string; json?: boolean }) => {
      const result = await queryScores(createObjectStore(), options.scores, sql);
      if (options.json) for (const row of result.rows) io.out(JSON.stringify(row));
      else for (const line of renderTable(result.columns, result.rows)) io.out(line);
    });
}
