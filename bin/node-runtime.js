'use strict';
// The Node runtime flags the scoring commands run under, and the re-exec that applies them when
// `churn` was started without them (`node bin/churn.js score ...`). V8 flags are process-wide and
// only safe to set at start-up, so they cannot be set from inside the running CLI.
//
// --single-threaded-gc: V8 otherwise marks and sweeps on helper threads in parallel with the
// shard threads. A scoring run keeps one shard thread per core busy, so the helpers only compete
// with them: measured in docs/decisions.md ("Scoring-only time back to what it was before
// issues 7 and 8").
// --wasm-tiering-budget=18000000 (10x V8's default): parquet-wasm's functions move from the
// baseline compiler (Liftoff) to the optimising one (TurboFan) after ten times the work, so only
// the really hot ones are recompiled; that compiling otherwise competes with the shard threads
// for the two cores. 0.93x CPU and 0.95x wall at 1M rows, 0.93x both at 3M (docs/decisions.md,
// "Against a plain DuckDB + ONNX Runtime pipeline").
const { spawn } = require('node:child_process');

/** V8 flags for the commands that score shards in worker threads. */
const SCORING_NODE_FLAGS = Object.freeze(['--single-threaded-gc', '--wasm-tiering-budget=18000000']);

/**
 * The embedded commands, which score shards in this process. Not `worker`: its name in the queue
 * is host:pid of the process an operator started, so it is not relayed; the image starts every
 * command with the flags (infra/docker/Dockerfile), workers included.
 */
const SCORING_COMMANDS = Object.freeze(['score', 'demo']);

/** Set in the re-executed child: it exits when the parent that forwards its signals is gone. */
const CHILD_MARK = 'CHURN_RUNTIME_CHILD';

/** Environment switch to run without the flags (`CHURN_RUNTIME_FLAGS=off`), e.g. to compare. */
const OPT_OUT = 'CHURN_RUNTIME_FLAGS';

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** The flags `argv`'s command wants that this process was not started with. */
function missingFlags(argv, execArgv = process.execArgv, env = process.env) {
  if (env[OPT_OUT] === 'off' || env[CHILD_MARK]) return [];
  // The program has no options of its own but --version and --help: the command comes first.
  const command = argv.find((a) => !a.startsWith('-'));
  if (!SCORING_COMMANDS.includes(command)) return [];
  return SCORING_NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}

/**
 * In the re-executed child: the parent holds an IPC channel open, and its end closing means the
 * parent died (even by SIGKILL), so the child does too instead of running on unobserved.
 */
function watchParent() {
  if (!process.env[CHILD_MARK] || !process.channel) return;
  process.channel.unref();
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}

/**
 * Runs `script` again with the missing flags and mirrors the child: signals sent to this process
 * are forwarded to it, and this process exits as it exits (same code, or the same signal).
 * Returns false, doing nothing, when no flag is missing.
 */
function reexecWithFlags(script, argv = process.argv.slice(2)) {
  const flags = missingFlags(argv);
  if (flags.length === 0) return false;
  // Its own process group, so a terminal's Ctrl-C reaches it once: through this process.
  const child = spawn(process.execPath, [...process.execArgv, ...flags, script, ...argv], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [CHILD_MARK]: String(process.pid) },
    detached: true,
  });
  const forward = (signal) => child.kill(signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  child.on('error', (error) => {
    process.stderr.write(`churn: could not start ${process.execPath} ${flags.join(' ')}: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    for (const s of FORWARDED_SIGNALS) process.off(s, forward);
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
  return true;
}

module.exports = { SCORING_NODE_FLAGS, SCORING_COMMANDS, missingFlags, reexecWithFlags, watchParent };
