// Opening the shared database: a bounded pool (database_pool_size) through Bun's built-in client,
// and the URL as it may be printed (credentials removed by the one redaction rule, core/redact.ts).
import { SQL } from "bun";
import { redactUrl } from "../../core/redact.ts";

export const DEFAULT_POOL_SIZE = 10;

/** Whether a `database_url` names PostgreSQL (empty means the SQLite file in state_dir). */
export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(?:ql)?:\/\//i.test(url);
}

/** The URL for logs and errors: no user or password, secret query values replaced. */
export function printableDatabaseUrl(url: string): string {
  return redactUrl(url);
}

export interface PoolOptions {
  /** Connections at most (database_pool_size). */
  max?: number;
  /** Seconds to wait for a connection before a query fails. */
  connectionTimeoutS?: number;
}

export function openPostgres(url: string, options: PoolOptions = {}): SQL {
  if (!isPostgresUrl(url)) {
    throw new RangeError(
      `database_url: expected postgres://… or postgresql://…, got ${printableDatabaseUrl(url)}`,
    );
  }
  return new SQL({
    url,
    max: options.max ?? DEFAULT_POOL_SIZE,
    connectionTimeout: options.connectionTimeoutS ?? 10,
    // Idle connections go back after a minute: a fleet of runners must not pin the server's slots.
    idleTimeout: 60,
  });
}
