import * as path from 'node:path';
import type { Command } from 'commander';
import { createObjectStore } from '@churn/object-store';
import { writeRunReport } from '@churn/report';
import type { CliIo } from '../cli-io';
import { positiveInt } from '../cli-options';

export function registerReportCommand(program: Command, io: CliIo): void {
  program
    .command('report')
    .description('write a self-contained HTML report of a committed run: scores, drift, reasons, quarantine, top customers, history')
    .requiredOption('--scores <uri>', 'score table root')
    .option('--as-of <date>', "run date (default: the model's latest committed run)")
    .option('--model <name-version>', 'model (default: the only one committed for that date)')
    .option('--history <n>', 'earlier runs of the model in the history', positiveInt, 10)
    .requiredOption('--out <file>', 'HTML file to write (a path or URI)')
    .action(async (options: { scores: string; asOf?: string; model?: string; history: number; out: string }) => {
      const result = await writeRunReport(createObjectStore(), {
        scoresUri: options.scores,
        outUri: /^[a-z]+:\/\//.test(options.out) ? options.out : path.resolve(options.out),
        historyRuns: options.history,
        ...(options.asOf ? { asOf: options.asOf } : {}),
        ...(options.model ? { model: options.model } : {}),
      });
      const { run, drift } = result.input;
      io.err(`wrote report of ${run.runId} (${drift ? `drift ${drift.status}` : 'no drift computed'}) to ${result.uri}`);
      io.out(JSON.stringify({ report: result.uri, runId: run.runId, bytes: result.bytes, drift: drift?.status ?? null, alerts: drift?.alerts ?? [] }));
    });
}
