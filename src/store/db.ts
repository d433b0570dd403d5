// Opening the queue database: the file under the state directory, the pragmas SPEC 3 requires,
// and the generic migration runner (one transaction per migration, versions recorded in a table).
import { constants, Database } from "bun:sqlite";
import { existsSync, linkSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { MIGRATIONS, type Migration } from "./migrations.ts";
import { isReferenceJobsTable } from "./reference-import.ts";

export const DATABASE_FILE = "queue.db";
/** The reference implementation's default name for its queue in the state directory. */
export const REFERENCE_DATABASE_FILE = "workqueue.sqlite";
/** How long a statement waits for another connection's write lock before failing. */
export const BUSY_TIMEOUT_MS = 5000;
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/** The database is newer than this program: refuse instead of guessing at its schema. */
export class SchemaTooNewError extends Error {
  override name = "SchemaTooNewError";
  constructor(
    readonly path: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `${path} has schema version ${found}, but this docstokg knows versions up to ${known}: use a newer docstokg`,
    );
  }
}

/** A command that only reads found no database where it looked. */
export class DatabaseMissingError extends Error {
  override name = "DatabaseMissingError";
  constructor(readonly path: string) {
    super(`no queue database at ${path}`);
  }
}

/** The database predates this program and reading commands do not migrate: say how it gets upgraded. */
export class SchemaTooOldError extends Error {
  override name = "SchemaTooOldError";
  constructor(
    readonly path: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `${path} has schema version ${found}, older than this docstokg's ${known}, and commands that only read do not upgrade it: run a command that writes (such as "docstokg queue run") once with write access to the state directory`,
    );
  }
}

export function databasePath(stateDir: string): string {
  return join(stateDir, DATABASE_FILE);
}

export function applyPragmas(db: Database): void {
  db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = NORMAL");
  db.run("PRAGMA foreign_keys = ON");
  db.run("PRAGMA temp_store = MEMORY");
  // Checkpoints run inside a committing statement and fsync; every ack is its own commit, so the
  // default (every 1000 pages) puts an fsync on the hot path every few hundred acks. ~40 MB of WAL
  // between checkpoints cuts that tenfold; the size limit truncates the file back afterwards.
  db.run(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  db.run(`PRAGMA journal_size_limit = ${64 * 1024 * 1024}`);
}

/** The highest migration version recorded, 0 for a database without the version table. */
export function schemaVersion(db: Database): number {
  const table = db
    .query<{ n: number }, []>(
      "SELECT count(*) AS n FROM sqlite_master WHERE type='table' AND name='schema_version'",
    )
    .get();
  if (!table || table.n === 0) return 0;
  const row = db.query<{ v: number | null }, []>("SELECT max(version) AS v FROM schema_version").get();
  return row?.v ?? 0;
}

/** Bring the schema up to the newest migration; each step commits on its own. */
export function migrate(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
  path = "database",
): number {
  const known = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const before = schemaVersion(db);
  if (before > known) throw new SchemaTooNewError(path, before, known);
  for (const migration of sorted) {
    // Up to date (the common case): no write lock just for opening.
    if (migration.version <= before) continue;
    // BEGIN IMMEDIATE takes the write lock first, so two processes opening a fresh file at the same
    // time cannot both apply a step: the second re-reads the version inside the lock and skips.
    db.transaction(() => {
      const current = schemaVersion(db);
      if (current > known) throw new SchemaTooNewError(path, current, known);
      if (current >= migration.version) return;
      migration.up(db);
      db.run(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
      );
      db.query("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)").run(
        migration.version,
        migration.name,
        Date.now(),
      );
    }).immediate();
  }
  const current = schemaVersion(db);
  if (current > known) throw new SchemaTooNewError(path, current, known);
  return current;
}

export interface OpenDatabaseOptions {
  migrations?: readonly Migration[];
  readonly?: boolean;
}

/** Open (creating directories and file as needed) and migrate the database at `path`. */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Database {
  if (options.readonly) return openDatabaseReadOnly(path, options.migrations);
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  // strict: a statement run with a missing parameter throws instead of silently binding NULL.
  const db = new Database(path, { create: true, strict: true });
  try {
    applyPragmas(db);
    migrate(db, options.migrations, path);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** SQLite's URI flag (bun:sqlite exports the open flags but not this one under every version). */
const SQLITE_OPEN_URI = 0x40;

function cannotOpen(error: unknown): boolean {
  const code = String((error as { code?: unknown }).code ?? "");
  return code === "SQLITE_CANTOPEN" || code.startsWith("SQLITE_READONLY");
}

/**
 * Opens an existing database for commands that only read (serve, report, queue stats/list/show,
 * manifest export): no migration, no pragma that writes, no file created when avoidable, so they
 * work on a read-only state directory. A schema older or newer than this program is an error.
 */
export function openDatabaseReadOnly(path: string, migrations: readonly Migration[] = MIGRATIONS): Database {
  if (!existsSync(path)) throw new DatabaseMissingError(path);
  let db: Database | undefined;
  let version: number;
  try {
    db = new Database(path, { readonly: true, strict: true });
    db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    version = schemaVersion(db);
  } catch (error) {
    db?.close();
    // A WAL database needs its -shm index beside it, which a read-only directory cannot get. No
    // writer can be active on it then (a WAL writer keeps -wal and -shm there), so it is read as
    // immutable: exact, and without locks. A -wal without its index is not guessed at.
    if (!cannotOpen(error) || existsSync(`${path}-wal`)) throw error;
    const uri = `file:${path.replace(/%/g, "%25").replace(/\?/g, "%3f").replace(/#/g, "%23")}?immutable=1`;
    db = new Database(uri, constants.SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
    try {
      version = schemaVersion(db);
    } catch (again) {
      db.close();
      throw again;
    }
  }
  const known = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  if (version !== known) {
    db.close();
    throw version > known
      ? new SchemaTooNewError(path, version, known)
      : new SchemaTooOldError(path, version, known);
  }
  return db;
}

export interface StateDatabaseOptions extends OpenDatabaseOptions {
  /** Told when a reference database was converted (default: a warning line on stderr). */
  onNotice?: (message: string) => void;
}

/**
 * Open the queue database of a state directory. When it has none but holds the reference
 * implementation's queue under that one's own name, a copy of it becomes the queue database (the
 * schema migration converts it, as it does a reference file named queue.db); the original is kept.
 */
export function openStateDatabase(stateDir: string, options: StateDatabaseOptions = {}): Database {
  if (!options.readonly) {
    const converted = adoptReferenceDatabase(stateDir);
    if (converted) {
      const notice = options.onNotice ?? ((m: string) => void process.stderr.write(`warning: ${m}\n`));
      notice(
        `found the reference implementation's queue ${converted} and converted a copy of it into ${databasePath(stateDir)}; the original is left as it was`,
      );
    }
  }
  return openDatabase(databasePath(stateDir), options);
}

/** The reference database of a state directory without a queue database of its own, if any. */
export function referenceDatabaseIn(stateDir: string): string | null {
  const reference = join(stateDir, REFERENCE_DATABASE_FILE);
  if (existsSync(databasePath(stateDir)) || !existsSync(reference)) return null;
  let db: Database | undefined;
  try {
    db = new Database(reference, { readonly: true, strict: true });
    return isReferenceJobsTable(db) ? reference : null;
  } catch {
    return null; // not a database at all: not ours to touch
  } finally {
    db?.close();
  }
}

/**
 * Copy the reference database (WAL included) to queue.db; the caller's migration converts it. The
 * copy is linked into place, never renamed over: when two processes start together, the one that
 * comes second keeps the first one's (possibly already migrated) database. Returns the reference
 * path when this call made the copy.
 */
function adoptReferenceDatabase(stateDir: string): string | null {
  const reference = referenceDatabaseIn(stateDir);
  if (reference === null) return null;
  const temp = join(stateDir, `.${DATABASE_FILE}.${process.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  const source = new Database(reference, { readonly: true, strict: true });
  try {
    source.run(`VACUUM INTO '${temp.replaceAll("'", "''")}'`);
  } finally {
    source.close();
  }
  try {
    linkSync(temp, databasePath(stateDir));
    return reference;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return null;
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}
