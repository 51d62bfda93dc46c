import { Command, CommanderError } from 'commander';
import { ChurnError } from '@churn/errors';
import { processIo, type CliIo } from './cli-io';
import { registerBundleCommand } from './commands/bundle-command';
import { registerDemoCommand } from './commands/demo-command';
import { registerQueryCommand } from './commands/query-command';
import { registerQueueCommands } from './commands/queue-commands';
import { registerScoreCommand } from './commands/score-command';
import { registerSynthCommand } from './commands/synth-command';
import { registerTrainCommand } from './commands/train-command';

export function buildProgram(io: CliIo): Command {
  const program = new Command('churn')
    .description('churn-scoring: score a customer snapshot with an ONNX churn model and write a score table')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError('(run with --help for usage)');
  registerSynthCommand(program, io);
  registerTrainCommand(program, io);
  registerBundleCommand(program, io);
  registerScoreCommand(program, io);
  registerDemoCommand(program, io);
  registerQueryCommand(program, io);
  registerQueueCommands(program, io);
  return program;
}

/**
 * Runs the `churn` command and returns its exit code: 0 on success, 1 when the work failed
 * (bad input, I/O), 2 for usage errors. Errors are printed as one clear message, never a stack.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof ChurnError) {
      io.err(`error [${error.code}]: ${error.message}`);
      return 1;
    }
    io.err(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}
