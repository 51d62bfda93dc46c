import { Option, type Command } from 'commander';
import { createObjectStore } from '@churn/object-store';
import { TRAIN_KINDS, trainBundle, type TrainKind } from '@churn/model-trainer';
import type { CliIo } from '../cli-io';
import { nonNegativeInt, positiveInt } from '../cli-options';

export function registerTrainCommand(program: Command, io: CliIo): void {
  program
    .command('train')
    .description('train a churn model in TypeScript, export it to ONNX and write a model bundle')
    .requiredOption('--data <uri>', 'dataset root or partition with the label column churned_within_30d')
    .requiredOption('--out <uri>', 'bundle folder to write (model.onnx + bundle.json)')
    .addOption(new Option('--kind <kind>', 'model kind').choices(TRAIN_KINDS).default('mlp'))
    .option('--trees <n>', 'gbdt: most trees (early stopping may keep fewer)', positiveInt)
    .option('--depth <n>', 'gbdt: tree depth', positiveInt)
    .option('--learning-rate <x>', 'gbdt: shrinkage per tree', Number)
    .option('--no-compare', 'gbdt: skip fitting the MLP on the same split for the AUC comparison')
    .option('--seed <n>', 'random seed', nonNegativeInt, 7)
    .option('--as-of <date>', 'partition to train on (default: the latest)')
    .option('--name <name>', 'model name (default churn-<kind>)')
    .option('--version <version>', 'model version', '1.0.0')
    .option('--max-rows <n>', 'cap on training rows read (sampled deterministically)', positiveInt)
    .action(async (options: { data: string; out: string; kind: TrainKind; seed: number; asOf?: string; name?: string; version: string; maxRows?: number; trees?: number; depth?: number; learningRate?: number; compare: boolean }) => {
      if (options.learningRate !== undefined && !(options.learningRate > 0 && options.learningRate <= 1)) {
        program.error(`error: --learning-rate must be a number in (0, 1], got "${options.learningRate}"`);
      }
      const result = await trainBundle(createObjectStore(), {
        dataUri: options.data,
        outUri: options.out,
        kind: options.kind,
        gbdt: {
          ...(options.trees ? { trees: options.trees } : {}),
          ...(options.depth ? { depth: options.depth } : {}),
          ...(options.learningRate ? { learningRate: options.learningRate } : {}),
        },
        compareMlp: options.compare,
        seed: options.seed,
        version: options.version,
        ...(options.asOf ? { asOf: options.asOf } : {}),
        ...(options.name ? { name: options.name } : {}),
        ...(options.maxRows ? { maxRows: options.maxRows } : {}),
        log: (m) => io.err(m),
      });
      io.err(
        `held-out AUC ${result.heldOutAuc.toFixed(4)}` +
          (result.mlpAuc === undefined ? '' : `; MLP on the same split ${result.mlpAuc.toFixed(4)}`) +
          (result.trueAuc === undefined ? '' : ` (true generating probabilities on the same rows: ${result.trueAuc.toFixed(4)})`) +
          `; ${result.trainRows} training rows, ${result.heldOutRows} held out, ${result.seconds.toFixed(1)}s`,
      );
      io.out(
        JSON.stringify({
          bundle: result.bundleUri,
          model: `${result.manifest.name}-${result.manifest.version}`,
          sha256: result.manifest.model.sha256,
          heldOutAuc: result.heldOutAuc,
          trueAuc: result.trueAuc,
          mlpAuc: result.mlpAuc,
          trainRows: result.trainRows,
          heldOutRows: result.heldOutRows,
        }),
      );
    });
}
