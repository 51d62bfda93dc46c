import type { Command } from 'commander';
import { createObjectStore } from '@churn/object-store';
import { profileBundle } from '@churn/model-trainer';
import type { CliIo } from '../cli-io';
import { fmt } from '../cli-options';

export function registerProfileCommand(program: Command, io: CliIo): void {
  program
    .command('profile')
    .description("compute a bundle's reference profile (drift monitoring, explanation baselines) from its training snapshot")
    .requiredOption('--data <uri>', "the model's training snapshot: dataset root or partition")
    .requiredOption('--model <uri>', 'model bundle folder')
    .option('--out <uri>', 'bundle folder to write (default: rewrite --model in place)')
    .option('--as-of <date>', 'partition to profile (default: the latest)')
    .action(async (options: { data: string; model: string; out?: string; asOf?: string }) => {
      const result = await profileBundle(createObjectStore(), {
        bundleUri: options.model,
        dataUri: options.data,
        ...(options.out ? { outUri: options.out } : {}),
        ...(options.asOf ? { asOf: options.asOf } : {}),
        log: (m) => io.err(m),
      });
      io.err(
        `wrote ${result.bundleUri}: reference profile of ${fmt(result.rowsProfiled)} rows of ${result.partitionUri} (${fmt(result.rowsQuarantined)} quarantined, ${fmt(result.rowsIneligible)} ineligible)`,
      );
      io.out(
        JSON.stringify({
          bundle: result.bundleUri,
          model: `${result.manifest.name}-${result.manifest.version}`,
          sha256: result.manifest.model.sha256,
          partition: result.partitionUri,
          rowsRead: result.rowsRead,
          rowsProfiled: result.rowsProfiled,
          quarantineRate: result.reference.quarantineRate,
        }),
      );
    });
}
