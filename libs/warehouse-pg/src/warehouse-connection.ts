import type * as Pg from 'pg';
import type * as PgCopyStreams from 'pg-copy-streams';
import { ChurnError } from '@churn/errors';
import { describeEndpoint, redactUrl, type WarehouseEndpoint, type WarehouseTarget } from './warehouse-config';

/** The PostgreSQL client, loaded on first use: the CLI imports this lib for every command. */
export function pg(): typeof Pg {
  return require('pg') as typeof Pg;
}

type Client = Pg.Client;

/** A connected client and where it is connected (for messages). */
export interface WarehouseConnection {
  client: Client;
  endpoint: WarehouseEndpoint;
  /** `"schema"`, quoted for SQL. */
  schemaSql: string;
  close(): Promise<void>;
}

/** Quotes an identifier for SQL (names are validated, this is belt and braces). */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function endpointOf(client: Client, target: WarehouseTarget): WarehouseEndpoint {
  return { host: client.host, port: client.port, database: client.database ?? client.user ?? '', user: client.user ?? '', schema: target.schema };
}

/** The message of a driver error without anything that could carry a password. */
function reasonOf(cause: unknown, target: WarehouseTarget): string {
  const message = cause instanceof Error ? cause.message || cause.name : String(cause);
  const code = (cause as { code?: unknown } | null)?.code;
  const text = typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
  return target.url ? text.split(target.url).join(redactUrl(target.url)) : text;
}

/** A WAREHOUSE_UNAVAILABLE naming host and database (never the password). */
export function warehouseError(what: string, cause: unknown, endpoint: WarehouseEndpoint, target: WarehouseTarget): ChurnError {
  return new ChurnError('WAREHOUSE_UNAVAILABLE', `${what} ${describeEndpoint(endpoint)}: ${reasonOf(cause, target)}`, {
    cause,
    details: { host: endpoint.host, port: endpoint.port, database: endpoint.database, schema: endpoint.schema },
    settings: ['warehouse'],
  });
}

/** Where a target points (host, port, database, user, schema), resolved as the driver will, without connecting. */
export function endpointOfTarget(target: WarehouseTarget): WarehouseEndpoint {
  return endpointOf(new (pg().Client)(target.url ? { connectionString: target.url } : {}), target);
}

/**
 * Connects within the target's bound (`connectTimeoutMs`). A refused, unreachable or
 * unauthenticated warehouse is a WAREHOUSE_UNAVAILABLE naming host and database; an error the
 * connection reports later (the server went away) is kept for the next query to surface.
 */
export async function connectWarehouse(target: WarehouseTarget): Promise<WarehouseConnection> {
  const client = new (pg().Client)({
    ...(target.url ? { connectionString: target.url } : {}),
    connectionTimeoutMillis: target.connectTimeoutMs,
    application_name: 'churn-scoring',
  });
  const endpoint = endpointOf(client, target);
  // Without a listener, a connection error after connect() would be an uncaught exception.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (cause) {
    await client.end().catch(() => undefined);
    throw warehouseError('cannot connect to the warehouse at', cause, endpoint, target);
  }
  return { client, endpoint, schemaSql: ident(target.schema), close: () => client.end().catch(() => undefined) };
}

/** Runs `fn` with a connection, closed afterwards whatever happens. */
export async function withWarehouse<T>(target: WarehouseTarget, fn: (conn: WarehouseConnection) => Promise<T>): Promise<T> {
  const conn = await connectWarehouse(target);
  try {
    return await fn(conn);
  } catch (error) {
    if (error instanceof ChurnError) throw error;
    throw warehouseError('the warehouse refused the work at', error, conn.endpoint, target);
  } finally {
    await conn.close();
  }
}

/** Runs `fn` in one transaction: committed when it returns, rolled back when it throws. */
export async function inTransaction<T>(conn: WarehouseConnection, fn: () => Promise<T>): Promise<T> {
  await conn.client.query('BEGIN');
  try {
    const result = await fn();
    await conn.client.query('COMMIT');
    return result;
  } catch (error) {
    await conn.client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Runs a `COPY ... FROM STDIN` with `data` as its bytes, waiting for the socket between buffers;
 * returns the rows the server copied. A failure of either side ends the COPY (the server rolls
 * it back) and is thrown.
 */
export async function copyIn(conn: WarehouseConnection, sql: string, data: AsyncIterable<Uint8Array>): Promise<number> {
  const stream = conn.client.query((require('pg-copy-streams') as typeof PgCopyStreams).from(sql));
  let failed: Error | undefined;
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', (error: Error) => {
      failed = error;
      reject(error);
    });
  });
  done.catch(() => undefined);
  try {
    for await (const chunk of data) {
      if (failed) throw failed;
      if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', resolve));
    }
    stream.end();
    await done;
  } catch (error) {
    if (!failed) stream.destroy(error as Error);
    await done.catch(() => undefined);
    throw error;
  }
  return stream.rowCount;
}
