import { Option, type Command } from 'commander';
import { ON_DRIFT_ACTIONS } from '@churn/model-bundle';
import { DEVICES } from '@churn/onnx-runner';
import { EXPLAIN_BASELINES, EXPLAIN_METHODS, EXPLAIN_SPACES, type RunRequestInput } from '@churn/scoring';
import { DEFAULT_WAREHOUSE_SCHEMA, warehouseTarget, warehouseTargetFromEnv, withoutPassword, type WarehouseTarget } from '@churn/warehouse-pg';
import { fraction, nonNegative, positiveInt } from './cli-options';
import { defaultBundlePath } from './default-bundle';

/** The flags every scoring command shares (`score`, `run`, `schedule set`, `backfill`). */
export interface ScoringFlags {
  model?: string;
  device: (typeof DEVICES)[number];
  batchRows?: number;
  shardRows?: number;
  concurrency?: number;
  maxBadFraction?: number;
  explain?: string;
  explainMethod?: (typeof EXPLAIN_METHODS)[number];
  explainBaseline?: (typeof EXPLAIN_BASELINES)[number];
  explainSpace?: (typeof EXPLAIN_SPACES)[number];
  permutations?: number;
  onDrift?: (typeof ON_DRIFT_ACTIONS)[number];
  psiWarn?: number;
  psiAlert?: number;
  replace?: boolean;
  pricePerDeviceHour?: number;
  warehouse?: string;
  warehouseSchema?: string;
}

/**
 * Adds the scoring flags to a command. Choices come from the same `as const` tuples as the
 * settings' zod schemas, so the CLI, the job payloads and the types cannot disagree.
 */
export function addScoringOptions(command: Command, options: { concurrency?: boolean } = {}): Command {
  command
    .option('--model <uri>', 'model bundle folder (default: the committed models/churn-mlp)')
    .addOption(new Option('--device <device>', 'execution provider').choices(DEVICES).default('auto'))
    .option('--batch-rows <n>', 'rows per inference batch (default 16384 on the CPU, 65536 on a GPU)', positiveInt)
    .option('--shard-rows <n>', 'target rows per shard (default 131072)', positiveInt);
  if (options.concurrency !== false) command.option('--concurrency <n>', 'shards scored at once, each in its own worker thread (default: one per CPU core)', positiveInt);
  command
    .option('--explain <policy>', "rows to explain: none | all | band:a,b | score>=X | top:P% (default: the bundle's)")
    .addOption(new Option('--explain-method <method>', "explanation method (default: the bundle's)").choices(EXPLAIN_METHODS))
    .addOption(new Option('--explain-baseline <baseline>', "explanation baseline (default: the bundle's)").choices(EXPLAIN_BASELINES))
    .addOption(new Option('--explain-space <space>', "explanation output space (default: the bundle's)").choices(EXPLAIN_SPACES))
    .option('--permutations <pairs>', 'antithetic permutation pairs for sampling Shapley', positiveInt)
    .option('--max-bad-fraction <f>', "fail a shard when more than this fraction of its rows is bad (default: the bundle's, 0.05)", fraction)
    .addOption(new Option('--on-drift <action>', "when drift alerts: warn (commit), hold (commit, not latest until churn release), fail (commit nothing); default: the bundle's").choices(ON_DRIFT_ACTIONS))
    .option('--psi-warn <x>', "PSI at which a feature warns (default: the bundle's, 0.1)", nonNegative)
    .option('--psi-alert <x>', "PSI at which a feature alerts (default: the bundle's, 0.25)", nonNegative)
    .option('--replace', 'replace a partition committed by a different bundle with the same name and version')
    .addOption(
      new Option('--price-per-device-hour <price>', 'price of one device-hour (any currency): the manifest, summary and churn status then show the run\'s cost per million rows (does not change the run)')
        .env('CHURN_PRICE_PER_DEVICE_HOUR')
        .argParser(nonNegative));
  return addWarehouseOptions(command, 'after the commit, load the run into this PostgreSQL warehouse (postgres://user@host:5432/db?sslmode=...; default: CHURN_WAREHOUSE_URL)');
}

/** `--warehouse` and `--warehouse-schema`, on every command that talks to the warehouse. */
export function addWarehouseOptions(command: Command, description = 'PostgreSQL warehouse URL (postgres://user@host:5432/db?sslmode=...; default: CHURN_WAREHOUSE_URL, else the PG* environment)'): Command {
  return command
    .option('--warehouse <url>', description)
    .option('--warehouse-schema <name>', `warehouse schema (default: CHURN_WAREHOUSE_SCHEMA, else ${DEFAULT_WAREHOUSE_SCHEMA})`);
}

/** The warehouse the flags or the environment name, or undefined when none is configured. */
export function warehouseOf(flags: { warehouse?: string; warehouseSchema?: string }): WarehouseTarget | undefined {
  return warehouseTargetFromEnv({ ...(flags.warehouse ? { url: flags.warehouse } : {}), ...(flags.warehouseSchema ? { schema: flags.warehouseSchema } : {}) });
}

/** The warehouse for a command that must have one: the flags, the environment, else the PG* environment. */
export function requiredWarehouseOf(flags: { warehouse?: string; warehouseSchema?: string }): WarehouseTarget {
  return warehouseOf(flags) ?? warehouseTarget({ ...(flags.warehouseSchema ? { schema: flags.warehouseSchema } : {}) });
}

/**
 * The run request the scoring flags describe (validated by the scoring library). A warehouse
 * named with --warehouse travels in the request without its password (the producer that loads
 * takes it from its PGPASSWORD or ~/.pgpass); `onPasswordRemoved` is told when there was one.
 */
export function runRequestOf(flags: ScoringFlags, target: { dataset: string; output: string; asOf?: string }, onPasswordRemoved?: () => void): RunRequestInput {
  const warehouse = flags.warehouse ? warehouseTarget({ url: flags.warehouse, ...(flags.warehouseSchema ? { schema: flags.warehouseSchema } : {}) }) : undefined;
  const stripped = warehouse?.url ? withoutPassword(warehouse.url) : undefined;
  if (stripped?.removed) onPasswordRemoved?.();
  const explain = {
    ...(flags.explain ? { policy: flags.explain } : {}),
    ...(flags.explainMethod ? { method: flags.explainMethod } : {}),
    ...(flags.explainBaseline ? { baseline: flags.explainBaseline } : {}),
    ...(flags.explainSpace ? { space: flags.explainSpace } : {}),
    ...(flags.permutations ? { permutations: flags.permutations } : {}),
  };
  return {
    dataset: target.dataset,
    output: target.output,
    ...(target.asOf ? { asOf: target.asOf } : {}),
    model: flags.model ?? defaultBundlePath(),
    overrides: {
      ...(Object.keys(explain).length > 0 ? { explain } : {}),
      ...(flags.maxBadFraction === undefined ? {} : { maxBadRowFraction: flags.maxBadFraction }),
      ...(flags.onDrift || flags.psiWarn !== undefined || flags.psiAlert !== undefined
        ? { drift: { ...(flags.onDrift ? { onDrift: flags.onDrift } : {}), ...(flags.psiWarn === undefined ? {} : { psiWarn: flags.psiWarn }), ...(flags.psiAlert === undefined ? {} : { psiAlert: flags.psiAlert }) } }
        : {}),
      ...(flags.shardRows ? { shardRows: flags.shardRows } : {}),
    },
    execution: {
      device: flags.device,
      ...(flags.batchRows ? { batchRows: flags.batchRows } : {}),
      ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
      ...(flags.replace ? { replace: true } : {}),
      ...(flags.pricePerDeviceHour === undefined ? {} : { pricePerDeviceHour: flags.pricePerDeviceHour }),
      ...(warehouse && stripped ? { warehouse: { url: stripped.url, schema: warehouse.schema } } : {}),
    },
  };
}
