import { z } from 'zod';
import { ChurnError } from '@churn/errors';

/** The default schema of the warehouse tables and views. */
export const DEFAULT_WAREHOUSE_SCHEMA = 'churn';

/** Default bound on connecting (ms): an unreachable warehouse fails the load, never hangs it. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** A schema name used unquoted-safe: lower-case letters, digits and `_`, as PostgreSQL folds them. */
export const schemaNameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case identifier (letters, digits, _; at most 63 characters)');

/**
 * Where the warehouse is: a `postgres://` (or `postgresql://`) URL, with TLS via `sslmode`, or
 * none, in which case the standard `PG*` environment (PGHOST, PGPORT, PGDATABASE, PGUSER,
 * PGPASSWORD, PGSSLMODE) applies, as for psql.
 */
export const warehouseTargetSchema = z
  .object({
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    schema: schemaNameSchema.default(DEFAULT_WAREHOUSE_SCHEMA),
    connectTimeoutMs: z.number().int().positive().default(DEFAULT_CONNECT_TIMEOUT_MS),
  })
  .strict();
export type WarehouseTarget = z.output<typeof warehouseTargetSchema>;
export type WarehouseTargetInput = z.input<typeof warehouseTargetSchema>;

/** Parses a target, naming the setting at fault (`warehouse`, `warehouseSchema`). */
export function warehouseTarget(input: WarehouseTargetInput): WarehouseTarget {
  const parsed = warehouseTargetSchema.safeParse(input);
  if (parsed.success) {
    if (parsed.data.url) checkUrl(parsed.data.url);
    return parsed.data;
  }
  const issue = parsed.error.issues[0]!;
  const field = String(issue.path[0] ?? 'url');
  const setting = field === 'schema' ? 'warehouseSchema' : 'warehouse';
  const value = field === 'url' && input.url ? redactUrl(input.url) : JSON.stringify((input as Record<string, unknown>)[field]);
  throw new ChurnError('INVALID_ARGUMENT', `warehouse ${field} ${value} ${issue.message}`, { details: { field }, settings: [setting] });
}

function checkUrl(url: string): void {
  try {
    new URL(url);
  } catch {
    throw new ChurnError('INVALID_ARGUMENT', `warehouse URL ${redactUrl(url)} is not a valid URL (e.g. postgres://user@host:5432/database?sslmode=require)`, { settings: ['warehouse'] });
  }
}

/**
 * The warehouse the environment names: `CHURN_WAREHOUSE_URL` (and `CHURN_WAREHOUSE_SCHEMA`), or
 * undefined when no warehouse is configured. An explicit URL or schema wins over the variables.
 */
export function warehouseTargetFromEnv(explicit: { url?: string; schema?: string } = {}, env: NodeJS.ProcessEnv = process.env): WarehouseTarget | undefined {
  const url = explicit.url ?? (env['CHURN_WAREHOUSE_URL'] || undefined);
  if (!url) return undefined;
  const schema = explicit.schema ?? (env['CHURN_WAREHOUSE_SCHEMA'] || undefined);
  const timeout = Number(env['CHURN_WAREHOUSE_CONNECT_TIMEOUT_MS']);
  return warehouseTarget({ url, ...(schema ? { schema } : {}), ...(Number.isInteger(timeout) && timeout > 0 ? { connectTimeoutMs: timeout } : {}) });
}

/** The URL with any password replaced by `***`, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@').replace(/([?&]password=)[^&]*/gi, '$1***');
}

/**
 * The URL without its password (it then comes from PGPASSWORD or ~/.pgpass where the load
 * runs): what may travel in a run request through Redis. `removed` says whether there was one.
 */
export function withoutPassword(url: string): { url: string; removed: boolean } {
  const stripped = url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@/]*@/, '$1@').replace(/([?&])password=[^&]*&?/gi, '$1').replace(/[?&]$/, '');
  return { url: stripped, removed: stripped !== url };
}

/** Host, port, database and user of a connection: what messages name (never the password). */
export interface WarehouseEndpoint {
  host: string;
  port: number;
  database: string;
  user: string;
  schema: string;
}

/** `host:port/database (schema s)`, for messages. */
export function describeEndpoint(e: WarehouseEndpoint): string {
  return `${e.host}:${e.port}/${e.database} (schema ${e.schema})`;
}
