import type { Command } from 'commander';
import { createObjectStore } from '@churn/object-store';
import { trainBundle } from '@churn/model-trainer';
import type { CliIo } from '../cli-io';
import { nonNegativeInt, positiveInt } from '../cli-options';

export function registerTrainCommand(program: Command, io: CliIo): void {
  program
    .command('train')
    .description('train a churn model in TypeScript, export it to ONNX and write a model bundle')
    .requiredOption('--data <uri>', 'dataset root or partition with the label column churned_within_30d')
    .requiredOption('--out <uri>', 'bundle folder to write (model.onnx + bundle.json)')
    .option('--kind <kind>', 'mlp | logistic', 'mlp')
    .option('--seed <n>', 'random seed', nonNegativeInt, 7)
    .option('--as-of <date>', 'partition to train on (default: the latest)')
    .option('--name <name>', 'model name (default churn-<kind>)')
    .option('--version <version>', 'model version', '1.0.0')
    .option('--max-rows <n>', 'cap on training rows read (sampled deterministically)', positiveInt)
    .action(async (options: { data: string; out: string; kind: string; seed: number; asOf?: string; name?: string; version: string; maxRows?: number }) => {
      if (options.kind !== 'mlp' && options.kind !== 'logistic') {
        program.error(`error: --kind must be mlp or logistic, got "${options.kind}"`);
      }
      const result = await trainBundle(createObjectStore(), {
        dataUri: options.data,
        outUri: options.out,
        kind: options.kind as 'mlp' | 'logistic',
        seed: options.seed,
        version: options.version,
        ...(options.asOf ? { asOf: options.asOf } : {}),
        ...(options.name ? { name: options.name } : {}),
        ...(options.maxRows ? { maxRows: options.maxRows } : {}),
        log: (m) => io.err(m),
      });
      io.err(
        `held-out AUC ${result.heldOutAuc.toFixed(4)}` +
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
          trainRows: result.trainRows,
          heldOutRows: result.heldOutRows,
        }),
      );
    });
}
