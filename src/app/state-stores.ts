// Where the shared state lives: the SQLite file in state_dir (default), or, when `database_url` is
// postgres://…, one bounded pool on that database (migrated first) — the queue, politeness, robots
// verdicts, the metadata cache rows, the stored-URL index, quota counters, the runner registry and
// the whole-queue reads, each behind its store interface. The one way every command opens state:
// working commands through the composition root (services.ts), looking ones read-only.
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import type { SQL } from "bun";
import type { Config } from "../config/schema.ts";
import type { RobotsStore } from "../net/robots-store.ts";
import {
  DatabaseMissingError,
  databasePath,
  openDatabase,
  openDatabaseReadOnly,
  openStateDatabase,
  referenceDatabaseIn,
} from "../store/db.ts";
import type { HostStateStore } from "../store/host-state.ts";
import type { CacheRows } from "../store/http-cache.ts";
import { isPostgresUrl, openPostgres, printableDatabaseUrl } from "../store/postgres/connection.ts";
import { postgresCacheRows } from "../store/postgres/http-cache.ts";
import { checkPostgresSchema, migratePostgres } from "../store/postgres/migrations.ts";
import { PostgresHostStore } from "../store/postgres/politeness/host-state.ts";
import { postgresPullStore } from "../store/postgres/pulls.ts";
import { PostgresJobQueue } from "../store/postgres/queue.ts";
import { postgresReads } from "../store/postgres/reads/reads.ts";
import { postgresRobotsStore } from "../store/postgres/robots.ts";
import { postgresRunnerRegistry } from "../store/postgres/runners.ts";
import { postgresRecordStoredUrl, postgresStoredUrls } from "../store/postgres/stored-urls.ts";
import { postgresUsageStore } from "../store/postgres/usage.ts";
import { type PullStore, sqlitePullStore } from "../store/pulls.ts";
import type { StateReads } from "../store/reads.ts";
import { type RunnerRegistry, sqliteRunnerRegistry } from "../store/runners.ts";
import { SqliteHostStore } from "../store/sqlite/host-state.ts";
import { sqliteReads } from "../store/sqlite/reads.ts";
import { sqliteRobotsStore } from "../store/sqlite/robots.ts";
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
  /** What report, manifest export and the status page read over the whole queue. */
  reads: StateReads;
  /** OpenAlex pulls: their cursors and counts, committed with each page's jobs. */
  pulls: PullStore;
  queue(now: () => number): JobQueue;
  close(): Promise<void>;
}

/** Whether this configuration puts the shared state in PostgreSQL. */
export function usesPostgres(config: Pick<Config, "database_url">): boolean {
  return isPostgresUrl(config.database_url || undefined);
}

export interface OpenStateOptions {
  /**
   * Only look: SQLite is opened read-only (a read-only state directory works; nothing is migrated
   * or created), PostgreSQL's schema is checked instead of migrated. The state must exist.
   */
  readOnly?: boolean;
  /** The state must exist already (a missing SQLite file is NoStateError, never a new empty one). */
  existing?: boolean;
}

/** There is no state where the configuration points: nothing was imported there yet. */
export class NoStateError extends Error {
  override name = "NoStateError";
  /** The SQLite file that was expected, when the state is SQLite's. */
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

export async function openStateStores(config: Config, o: OpenStateOptions = {}): Promise<StateStores> {
  if (!usesPostgres(config)) return sqliteStores(config, o);
  const url = config.database_url as string;
  const sql = openPostgres(url, { max: config.database_pool_size });
  try {
    if (!o.readOnly) await migratePostgres(sql);
    else if ((await checkPostgresSchema(sql)) === 0)
      throw new NoStateError(
        `no docstokg tables in ${printableDatabaseUrl(url)} (expected a database prepared by "docstokg state migrate" or "docstokg queue import")`,
      );
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
    reads: postgresReads(sql),
    pulls: postgresPullStore(sql),
    queue: () => new PostgresJobQueue(sql, queuePolicy(config.queue)),
    close: () => sql.close(),
  };
}

/** The SQLite state database of state_dir, opened as the options ask. */
function openSqliteState(stateDir: string, o: OpenStateOptions): Database {
  const path = databasePath(stateDir);
  if (!o.readOnly && !o.existing) return openStateDatabase(stateDir);
  // The reference implementation's queue under its own name is converted once, on first use by any
  // command (the one write a looking command may make).
  if (!existsSync(path) && referenceDatabaseIn(stateDir) !== null) openStateDatabase(stateDir).close();
  try {
    if (!existsSync(path)) throw new DatabaseMissingError(path);
    return o.readOnly ? openDatabaseReadOnly(path) : openDatabase(path);
  } catch (error) {
    if (!(error instanceof DatabaseMissingError)) throw error;
    throw new NoStateError(
      `no queue database in ${stateDir} (expected ${path}; set --state-dir or state_dir, or database_url)`,
      path,
    );
  }
}

function sqliteStores(config: Config, o: OpenStateOptions): StateStores {
  const db = openSqliteState(config.state_dir, o);
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
    reads: sqliteReads(db),
    pulls: sqlitePullStore(db),
    queue: (now) => new SqliteJobQueue(db, queuePolicy(config.queue), { now }),
    close: async () => db.close(),
  };
}
