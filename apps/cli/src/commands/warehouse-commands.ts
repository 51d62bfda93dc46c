import type { Command } from 'commander';
import { ChurnError } from '@churn/errors';
import { createObjectStore } from '@churn/object-store';
import { committedRunOf, recordPublished, tableLayout, type PublishRecord } from '@churn/warehouse';
import { describeEndpoint, endpointOfTarget, loadRunInto, migrateWarehouse, withWarehouse } from '@churn/warehouse-pg';
import type { CliIo } from '../cli-io';
import { fmt } from '../cli-options';
import { addWarehouseOptions, requiredWarehouseOf } from '../scoring-options';

interface WarehouseFlags {
  warehouse?: string;
  warehouseSchema?: string;
}

export function registerWarehouseCommands(program: Command, io: CliIo): void {
  const warehouse = program.command('warehouse').description('the PostgreSQL warehouse the score tables load into');
  addWarehouseOptions(warehouse.command('migrate').description('create or upgrade the warehouse schema (versioned migrations; idempotent, safe to run from several hosts at once)')).action(
    async (options: WarehouseFlags) => {
      const target = requiredWarehouseOf(options);
      const result = await withWarehouse(target, migrateWarehouse);
      const where = describeEndpoint(endpointOfTarget(target));
      io.err(result.applied.length > 0 ? `migrated ${where} to version ${result.version} (applied ${result.applied.join(', ')})` : `${where} is at version ${result.version}; nothing to do`);
      io.out(JSON.stringify(result));
    },
  );

  addWarehouseOptions(
    program
      .command('load')
      .description('load a committed run into the warehouse (a run whose load failed at commit, or another warehouse); replaces its slice, never a newer run')
      .requiredOption('--scores <uri>', 'score table root (the --output of the run)')
      .option('--as-of <date>', 'the run of this as-of date (with --model)')
      .option('--model <name-version>', 'its model, e.g. churn-mlp-1.0.0 (with --as-of)')
      .option('--run <runId>', 'the run, by id (instead of --as-of and --model)'),
  ).action(async (options: WarehouseFlags & { scores: string; asOf?: string; model?: string; run?: string }) => {
    if (!options.run && !(options.asOf && options.model)) {
      throw new ChurnError('INVALID_ARGUMENT', 'name the run to load: --run RUN_ID, or --as-of DATE with --model NAME-VERSION');
    }
    const target = requiredWarehouseOf(options);
    const store = createObjectStore();
    const run = await committedRunOf(store, options.scores, options.run ? { runId: options.run } : { asOf: options.asOf!, model: options.model! });
    const { manifest } = run;
    const where = describeEndpoint(endpointOfTarget(target));
    const base = { publisher: 'postgres', target: where, runId: manifest.runId, attempt: manifest.attempt };
    const layout = tableLayout(run.scoresUri).partition(manifest.asOf, `${manifest.model.name}-${manifest.model.version}`);
    let record: PublishRecord;
    try {
      const outcome = await loadRunInto(target, run);
      record = { ...base, state: outcome.state, at: new Date().toISOString(), rows: outcome.rows, seconds: Math.round(outcome.seconds * 1000) / 1000, ...(outcome.note ? { note: outcome.note } : {}) };
    } catch (error) {
      const failure = error instanceof ChurnError ? error : new ChurnError('WAREHOUSE_UNAVAILABLE', String(error), { cause: error });
      await recordPublished(store, layout, manifest, [{ ...base, state: 'not_loaded', at: new Date().toISOString(), error: { code: failure.code, message: failure.message } }]);
      throw failure;
    }
    await recordPublished(store, layout, manifest, [record]);
    io.err(record.state === 'loaded' ? `loaded run ${manifest.runId} into ${where}: ${fmt(record.rows ?? 0)} score rows in ${record.seconds}s` : `run ${manifest.runId}: ${record.note ?? record.state}`);
    io.out(JSON.stringify(record));
  });
}
