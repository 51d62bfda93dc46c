import { Command, CommanderError } from 'commander';
import { processIo, type CliIo } from './cli-io';
import { renderError, toChurnError } from './cli-errors';
import { registerBundleCommand } from './commands/bundle-command';
import { registerDemoCommand } from './commands/demo-command';
import { registerEvaluateCommand } from './commands/evaluate-command';
import { registerProfileCommand } from './commands/profile-command';
import { registerQueryCommand } from './commands/query-command';
import { registerQueueCommands } from './commands/queue-commands';
import { registerReportCommand } from './commands/report-command';
import { registerScoreCommand } from './commands/score-command';
import { registerSynthCommand } from './commands/synth-command';
import { registerTrainCommand } from './commands/train-command';
import { registerWarehouseCommands } from './commands/warehouse-commands';

export function buildProgram(io: CliIo, version = '0.0.0'): Command {
  const program = new Command('churn')
    .description('churn-scoring: score a customer snapshot with an ONNX churn model and write a score table')
    .version(version, '-V, --version', 'print the version')
    // `churn --version` is the program's; `churn train --version 1.2.0` is the model's.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError('(run with --help for usage)');
  registerSynthCommand(program, io);
  registerTrainCommand(program, io);
  registerBundleCommand(program, io);
  registerProfileCommand(program, io);
  registerScoreCommand(program, io);
  registerDemoCommand(program, io);
  registerQueryCommand(program, io);
  registerReportCommand(program, io);
  registerEvaluateCommand(program, io);
  registerQueueCommands(program, io);
  registerWarehouseCommands(program, io);
  return program;
}

/**
 * Runs the `churn` command and returns its exit code: 0 on success, 2 for usage errors, and for
 * a failure the exit code the error table gives its code (docs/operations.md). Errors are
 * printed as one clear message; only an unexpected error (INTERNAL) shows a stack.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo(), version?: string): Promise<number> {
  const program = buildProgram(io, version);
  let running: Command | undefined;
  program.hook('preAction', (_program, actionCommand) => {
    running = actionCommand;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0 ? 0 : 2;
    }
    const failure = toChurnError(error);
    io.err(renderError(failure, running));
    return failure.exitCode;
  }
}
