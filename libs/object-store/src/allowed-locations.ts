import { pathToFileURL } from 'node:url';
import { ChurnError } from '@churn/errors';
import { normalizeUri } from './uri';

/**
 * Which locations a queue process (worker, producer) may read and write. Jobs come from Redis,
 * so a job naming a location outside these prefixes fails permanently instead of being obeyed.
 */
export interface LocationPolicy {
  readonly prefixes: readonly string[];
  /** Refuses `uri` with LOCATION_NOT_ALLOWED unless it is under an allowed prefix. */
  check(uri: string, what: string): void;
  /** One line for the start-up log. */
  describe(): string;
}

/** Whether `uri` is `prefix` or below it, on whole path segments. */
function under(uri: string, prefix: string): boolean {
  if (prefix.endsWith('://')) return uri.startsWith(prefix);
  const p = prefix.replace(/\/+$/, '');
  return uri === p || uri.startsWith(`${p}/`);
}

/**
 * `CHURN_ALLOWED_LOCATIONS` (comma-separated URI prefixes, e.g. `s3://lake/,file:///data/`);
 * unset, any `s3://` location and `file://` locations under the working directory.
 */
export function allowedLocationsFromEnv(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): LocationPolicy {
  const raw = env['CHURN_ALLOWED_LOCATIONS'];
  const prefixes =
    raw === undefined || raw.trim() === ''
      ? ['s3://', pathToFileURL(cwd).href]
      : raw
          .split(',')
          .map((p) => p.trim())
          .filter((p) => p.length > 0)
          .map((p) => (p === 's3://' || p === 'file://' ? p : normalizeUri(p)));
  return {
    prefixes,
    check(uri, what) {
      const location = normalizeUri(uri);
      if (!prefixes.some((p) => under(location, p))) {
        throw new ChurnError('LOCATION_NOT_ALLOWED', `${what} ${location} is outside the locations this process may use (${prefixes.join(', ')}); set CHURN_ALLOWED_LOCATIONS on the workers and producers to allow it`, {
          details: { uri: location, allowed: prefixes },
        });
      }
    },
    describe: () => `accepting locations under ${prefixes.join(', ')}${raw === undefined ? ' (default; set CHURN_ALLOWED_LOCATIONS to change)' : ''}`,
  };
}
