// Where the shared state lives: the SQLite file in state_dir (default), or, when `database_url` is
// postgres://…, one bounded pool on that database (migrated first) — the queue, politeness, robots
// verdicts, the metadata cache rows, the stored-URL index, quota counters and the runner registry,
// each behind its store interface, built once here for the composition root.
import type { Database } from "bun:sqlite";
import type { SQL } from "bun";
import type { Config } from "../config/schema.ts";
import type { CacheRows } from "../net/cache.ts";
import { type RobotsStore, sqliteRobotsStore } from "../net/robots-store.ts";
import { openStateDatabase } from "../store/db.ts";
import type { HostStateStore } from "../store/host-state.ts";
import { isPostgresUrl, openPostgres, printableDatabaseUrl } from "../store/postgres/connection.ts";
import { postgresCacheRows } from "../store/postgres/http-cache.ts";
import { migratePostgres } from "../store/postgres/migrations.ts";
import { PostgresHostStore } from "../store/postgres/politeness/host-state.ts";
import { PostgresJobQueue } from "../store/postgres/queue.ts";
import { postgresRobotsStore } from "../store/postgres/robots.ts";
import { postgresRunnerRegistry } from "../store/postgres/runners.ts";
import { postgresRecordStoredUrl, postgresStoredUrls } from "../store/postgres/stored-urls.ts";
import { postgresUsageStore } from "../store/postgres/usage.ts";
import { type RunnerRegistry, sqliteRunnerRegistry } from "../store/runners.ts";
import { SqliteHostStore } from "../store/sqlite/host-state.ts";
import { queuePolicy, SqliteJobQueue } from "../store/sqlite-queue.ts";
import {
  prepareRecordStoredUrl,
  type RecordStoredUrl,
  type StoredUrls,
  storedUrls,
} from "../store/stored-urls.ts";
import type { JobQueue } from "../store/types.ts";
import { sqliteUsageStore, type UsageStore } from "../store/usage.ts";

export interface StateStores {
  /** The SQLite state database, or undefined on PostgreSQL. */
  db: Database | undefined;
  /** The PostgreSQL pool, or undefined on SQLite. */
  sql: SQL | undefined;
  /** Where the state is, as it may be printed (no password). */
  where: string;
  hostState: HostStateStore;
  robots: RobotsStore;
  cacheRows: CacheRows | Database;
  storedUrls: StoredUrls;
  recordStoredUrl: RecordStoredUrl;
  usage: UsageStore;
  runners: RunnerRegistry;
  queue(now: () => number): JobQueue;
  close(): Promise<void>;
}

/** Whether this configuration puts the shared state in PostgreSQL. */
export function usesPostgres(config: Pick<Config, "database_url">): boolean {
  return isPostgresUrl(config.database_url || undefined);
}

export async function openStateStores(config: Config): Promise<StateStores> {
  if (!usesPostgres(config)) return sqliteStores(config);
  const url = config.database_url as string;
  const sql = openPostgres(url, { max: config.database_pool_size });
  try {
    await migratePostgres(sql);
  } catch (e) {
    await sql.close();
    throw e;
  }
  return {
    db: undefined,
    sql,
    where: printableDatabaseUrl(url),
    hostState: new PostgresHostStore(sql),
    robots: postgresRobotsStore(sql),
    cacheRows: postgresCacheRows(sql),
    storedUrls: postgresStoredUrls(sql),
    recordStoredUrl: postgresRecordStoredUrl(sql),
    usage: postgresUsageStore(sql),
    runners: postgresRunnerRegistry(sql),
    queue: () => new PostgresJobQueue(sql, queuePolicy(config.queue)),
    close: () => sql.close(),
  };
}

function sqliteStores(config: Config): StateStores {
  const db = openStateDatabase(config.state_dir);
  return {
    db,
    sql: undefined,
    where: config.state_dir,
    hostState: new SqliteHostStore(db),
    robots: sqliteRobotsStore(db),
    cacheRows: db,
    storedUrls: storedUrls(db),
    recordStoredUrl: prepareRecordStoredUrl(db),
    usage: sqliteUsageStore(db),
    runners: sqliteRunnerRegistry(db),
    queue: (now) => new SqliteJobQueue(db, queuePolicy(config.queue), { now }),
    close: async () => db.close(),
  };
}
