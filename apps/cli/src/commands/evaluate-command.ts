import type { Command } from 'commander';
import { createObjectStore } from '@churn/object-store';
import { evaluateRun } from '@churn/report';
import { committedRunOf } from '@churn/warehouse';
import { describeEndpoint, endpointOfTarget, ensureMigrated, storeEvaluation, withWarehouse } from '@churn/warehouse-pg';
import type { CliIo } from '../cli-io';
import { addWarehouseOptions, warehouseOf } from '../scoring-options';

export function registerEvaluateCommand(program: Command, io: CliIo): void {
  const command = program
    .command('evaluate')
    .description("realized performance of a committed run once outcomes are known (AUC, Brier, calibration); stored beside the run")
    .requiredOption('--scores <uri>', 'score table root')
    .requiredOption('--as-of <date>', 'the run to evaluate')
    .requiredOption('--model <name-version>', 'its model, e.g. churn-mlp-1.0.0')
    .requiredOption('--labels <uri>', 'outcomes: a later snapshot (dataset root or partition) or any Parquet file with customer_id and the label')
    .option('--label-column <column>', '0/1 or boolean outcome column', 'churned_within_30d');
  addWarehouseOptions(command, 'also record the evaluation in this PostgreSQL warehouse (table evaluations; default: CHURN_WAREHOUSE_URL)')
    .action(async (options: { scores: string; asOf: string; model: string; labels: string; labelColumn: string; warehouse?: string; warehouseSchema?: string }) => {
      const store = createObjectStore();
      const evaluation = await evaluateRun(store, {
        scoresUri: options.scores,
        asOf: options.asOf,
        model: options.model,
        labelsUri: options.labels,
        labelColumn: options.labelColumn,
      });
      const { metrics } = evaluation;
      io.err(
        `${evaluation.runId}: AUC ${metrics.auc === null ? 'undefined (one class only)' : metrics.auc.toFixed(4)}` +
          (evaluation.trainingAuc === null ? '' : ` (training ${evaluation.trainingAuc.toFixed(4)})`) +
          `, Brier ${metrics.brier.toFixed(4)}, ${evaluation.rowsJoined} of ${evaluation.rowsScored} scored customers labelled; stored beside the run`,
      );
      const target = warehouseOf(options);
      if (target) {
        const { manifest } = await committedRunOf(store, options.scores, { asOf: options.asOf, model: options.model });
        await withWarehouse(target, async (conn) => {
          await ensureMigrated(conn);
          await storeEvaluation(conn, manifest.model, evaluation);
        });
        io.err(`recorded the evaluation in the warehouse ${describeEndpoint(endpointOfTarget(target))}`);
      }
      io.out(JSON.stringify(evaluation));
    });
}
