import type { Command } from 'commander';
import { createObjectStore } from '@churn/object-store';
import { queryScores, releaseHeldRun } from '@churn/warehouse';
import type { CliIo } from '../cli-io';
import { describeEndpoint, endpointOfTarget, releaseWarehouseRun, withWarehouse } from '@churn/warehouse-pg';
import { renderTable } from '../cli-options';
import { addWarehouseOptions, warehouseOf } from '../scoring-options';

export function registerQueryCommand(program: Command, io: CliIo): void {
  program
    .command('query')
    .description('run SQL in embedded DuckDB over the committed partitions of a score table (views scores, quarantine, runs, scores_latest, score_changes, reason_summary, score_contributions)')
    .argument('<sql>', 'SQL to run, e.g. "SELECT risk_band, count(*) FROM scores GROUP BY 1"')
    .requiredOption('--scores <uri>', 'score table root (the --output of churn score)')
    .option('--json', 'print one JSON object per row instead of a table')
    .action(async (sql: string, options: { scores: string; json?: boolean }) => {
      const result = await queryScores(createObjectStore(), options.scores, sql);
      if (options.json) for (const row of result.rows) io.out(JSON.stringify(row));
      else for (const line of renderTable(result.columns, result.rows)) io.out(line);
    });

  addWarehouseOptions(
    program
      .command('release')
      .description('release a run the drift gate held: it becomes the latest run of its model (in the score table and, when configured, the warehouse)')
      .argument('<runId>', 'the held run, as its summary or churn status names it')
      .requiredOption('--scores <uri>', 'score table root (the --output of the run)'),
  ).action(async (runId: string, options: { scores: string; warehouse?: string; warehouseSchema?: string }) => {
    const manifest = await releaseHeldRun(createObjectStore(), options.scores, runId);
    io.err(`released run ${runId} (as of ${manifest.asOf}, ${manifest.model.name}-${manifest.model.version})`);
    const target = warehouseOf(options);
    let warehouse: boolean | undefined;
    if (target) {
      warehouse = await withWarehouse(target, (conn) => releaseWarehouseRun(conn, runId));
      io.err(warehouse ? `released run ${runId} in the warehouse ${describeEndpoint(endpointOfTarget(target))}` : `run ${runId} is not held in the warehouse ${describeEndpoint(endpointOfTarget(target))} (not loaded there, or already released)`);
    }
    io.out(JSON.stringify({ runId, released: true, ...(warehouse === undefined ? {} : { warehouse }) }));
  });
}
