/**
 * The one table of error codes: for each, the process exit code, whether a queue retries the
 * work, and the operator's hint. The CLI's exit path, the queue worker's retry decision, the
 * status output and docs/operations.md all read this table, so a new code is added in one place.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'INPUT_NOT_FOUND',
  'CORRUPT_INPUT',
  'CONTRACT_VIOLATION',
  'INVALID_BUNDLE',
  'MODEL_MISMATCH',
  'INVALID_MODEL_OUTPUT',
  'DEVICE_UNAVAILABLE',
  'LOCATION_NOT_ALLOWED',
  'PARTITION_CONFLICT',
  'PARTITION_LOCKED',
  'IO_ERROR',
  'QUEUE_UNAVAILABLE',
  'SCORING_THREAD_CRASHED',
  'COMMIT_FAILED',
  'WAREHOUSE_UNAVAILABLE',
  'DRIFT_HELD',
  'DRIFT_FAILED',
  'RUN_FAILED',
  'TIMEOUT',
  'INTERNAL',
] as const;

export type ChurnErrorCode = (typeof ERROR_CODES)[number];

/** never: the same work cannot succeed (bad input, config); backoff: retry later with backoff. */
export const RETRY_POLICIES = ['never', 'backoff'] as const;
export type RetryPolicy = (typeof RETRY_POLICIES)[number];

export interface ErrorPolicy {
  /** Process exit code of a command that fails with this code (2 is also commander's usage error). */
  exitCode: number;
  retry: RetryPolicy;
  /** What the code means, in one line. */
  meaning: string;
  /** What an operator does about it. */
  hint: string;
}

export const ERROR_POLICY: Readonly<Record<ChurnErrorCode, ErrorPolicy>> = {
  INVALID_ARGUMENT: { exitCode: 2, retry: 'never', meaning: 'a flag, setting, date, URI or job payload is malformed or unknown', hint: 'fix the command line or the request' },
  INPUT_NOT_FOUND: { exitCode: 3, retry: 'never', meaning: 'an input location, partition, file or run does not exist', hint: 'check the dataset location and the as-of date (the message lists what exists)' },
  CORRUPT_INPUT: { exitCode: 4, retry: 'never', meaning: 'a file is not Parquet, is truncated or cannot be decoded', hint: 're-export the named file, or move it out of the partition' },
  CONTRACT_VIOLATION: { exitCode: 5, retry: 'never', meaning: "a required column is missing, or a shard's bad-row fraction is over the limit", hint: "fix the upstream export; raise the bad-row limit only if the bad rows are expected" },
  INVALID_BUNDLE: { exitCode: 6, retry: 'never', meaning: 'the model bundle is invalid, fails its digest, or its model cannot be loaded', hint: 'rebuild the bundle with churn bundle or churn train instead of editing it' },
  MODEL_MISMATCH: { exitCode: 7, retry: 'never', meaning: "the ONNX graph's inputs or outputs disagree with bundle.json", hint: 'fix the bundle spec or re-export the model' },
  INVALID_MODEL_OUTPUT: { exitCode: 8, retry: 'never', meaning: 'the model returned non-finite scores or scores outside [0, 1] for too many rows', hint: 'check the model and its output kind (probability or logit) in bundle.json' },
  DEVICE_UNAVAILABLE: { exitCode: 9, retry: 'never', meaning: 'the requested execution provider cannot run on this host', hint: 'choose another device, or install the GPU build of ONNX Runtime on this host' },
  LOCATION_NOT_ALLOWED: { exitCode: 10, retry: 'never', meaning: 'a dataset, model or output location is outside the allowed prefixes', hint: 'add its prefix to CHURN_ALLOWED_LOCATIONS, or use an allowed location' },
  PARTITION_CONFLICT: { exitCode: 11, retry: 'never', meaning: 'the partition is already committed by a different model digest under the same name and version', hint: 'give the model a new version, or replace the partition deliberately' },
  PARTITION_LOCKED: { exitCode: 12, retry: 'backoff', meaning: 'another run holds the lease of the output partition', hint: 'wait for the other run (named in the message), or break a stale lease' },
  IO_ERROR: { exitCode: 13, retry: 'backoff', meaning: 'reading or writing storage failed (permissions, network, disk)', hint: 'check the location is reachable and writable, then run again' },
  QUEUE_UNAVAILABLE: { exitCode: 14, retry: 'backoff', meaning: 'Redis could not be reached in time', hint: 'check REDIS_URL and that Redis is up and reachable from this host' },
  SCORING_THREAD_CRASHED: { exitCode: 15, retry: 'backoff', meaning: 'a scoring thread died while scoring a shard (out of memory, or a decoder crash on a damaged file)', hint: 'the thread is replaced; if the same shard crashes again, check the named file' },
  COMMIT_FAILED: { exitCode: 16, retry: 'backoff', meaning: "a shard's staged output is missing or does not match its outcome, or the accounting does not balance", hint: 'run again: the previous committed version stays in place' },
  WAREHOUSE_UNAVAILABLE: { exitCode: 17, retry: 'backoff', meaning: 'the Parquet commit stands but the PostgreSQL load failed', hint: 'fix the database, then load the run with churn load' },
  DRIFT_HELD: { exitCode: 20, retry: 'never', meaning: 'the run committed but drift held it back from being the latest', hint: 'review the drift report, then release the run' },
  DRIFT_FAILED: { exitCode: 21, retry: 'never', meaning: 'drift over the alert threshold: nothing was committed', hint: 'review the drift report; rerun with a warn or hold gate if the change is expected' },
  RUN_FAILED: { exitCode: 22, retry: 'never', meaning: 'a distributed run ended failed (the status names its failed shards and their codes)', hint: 'fix the cause named in the status, then run or resume it again' },
  TIMEOUT: { exitCode: 23, retry: 'backoff', meaning: 'the wait for a run, a connection or a drain ran out of time', hint: 'wait longer, or check the workers and the producer are running' },
  INTERNAL: { exitCode: 70, retry: 'never', meaning: 'an unexpected error (a bug)', hint: 'report it with the message and the stack in the log' },
};

export function errorPolicy(code: ChurnErrorCode): ErrorPolicy {
  return ERROR_POLICY[code];
}

/** Exit code of a command that failed with `code`. */
export function exitCodeOf(code: ChurnErrorCode): number {
  return ERROR_POLICY[code].exitCode;
}
