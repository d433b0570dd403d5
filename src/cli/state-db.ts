// Opening state for the commands: `openCommandState`/`withState` follow database_url (SQLite in
// state_dir or PostgreSQL) and turn opening failures into CLI errors; `openExistingState` opens the
// SQLite file read-only for the few commands that read SQLite-only tables. A missing database is an
// error naming where it was expected, never a new empty one.
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import {
  NoStateError,
  type OpenStateOptions,
  openStateStores,
  type StateStores,
  usesPostgres,
} from "../app/state-stores.ts";
import type { Config } from "../config/schema.ts";
import {
  DatabaseMissingError,
  databasePath,
  openDatabaseReadOnly,
  openStateDatabase,
  referenceDatabaseIn,
  SchemaTooNewError,
  SchemaTooOldError,
} from "../store/db.ts";
import { DatabaseTooNewError } from "../store/postgres/migrations.ts";
import { RuntimeFailure, UsageError } from "./common.ts";

export function openExistingState(stateDir: string): Database {
  // The reference implementation's queue under its own name is converted once, on first use by any
  // command (the one write a reading command may make; it says so).
  if (!existsSync(databasePath(stateDir)) && referenceDatabaseIn(stateDir) !== null)
    openStateDatabase(stateDir).close();
  try {
    return openDatabaseReadOnly(databasePath(stateDir));
  } catch (error) {
    if (error instanceof DatabaseMissingError) {
      throw new RuntimeFailure(
        `no queue database in ${stateDir} (expected ${databasePath(stateDir)}; set --state-dir or state_dir)`,
      );
    }
    if (error instanceof SchemaTooNewError) throw new UsageError(error.message);
    if (error instanceof SchemaTooOldError) throw new RuntimeFailure(error.message);
    const message = error instanceof Error ? error.message : String(error);
    throw new RuntimeFailure(`cannot open the queue database in ${stateDir} for reading: ${message}`);
  }
}

/**
 * The state the configuration names (SQLite in state_dir, or PostgreSQL by database_url), opened
 * through the one way of opening state (app/state-stores.ts), with its failures as CLI errors: a
 * database from a newer docstokg is a usage error, missing state is `missing`'s kind of error.
 */
export async function openCommandState(
  config: Config,
  o: OpenStateOptions & { missing?: "usage" | "runtime" } = {},
): Promise<StateStores> {
  try {
    return await openStateStores(config, o);
  } catch (error) {
    if (error instanceof NoStateError) {
      if (o.missing !== "usage") throw new RuntimeFailure(error.message);
      throw new UsageError(
        error.path
          ? `no queue database at ${error.path}: point --state-dir at a state directory (created by "docstokg queue import")`
          : error.message,
      );
    }
    if (error instanceof SchemaTooNewError || error instanceof DatabaseTooNewError)
      throw new UsageError(error.message);
    if (error instanceof SchemaTooOldError) throw new RuntimeFailure(error.message);
    const message = error instanceof Error ? error.message : String(error);
    const where = usesPostgres(config)
      ? "the PostgreSQL database"
      : `the queue database in ${config.state_dir}`;
    throw new RuntimeFailure(`cannot open ${where}${o.readOnly ? " for reading" : ""}: ${message}`);
  }
}

/** `work` on the opened state, closed afterwards whatever happens. */
export async function withState<T>(
  config: Config,
  o: OpenStateOptions,
  work: (state: StateStores) => Promise<T>,
): Promise<T> {
  const state = await openCommandState(config, o);
  try {
    return await work(state);
  } finally {
    await state.close();
  }
}

/** A command that reads only the SQLite state refuses a PostgreSQL state instead of reading the wrong one. */
export function refusePostgres(config: Config, command: string, instead: string): void {
  if (!usesPostgres(config)) return;
  throw new UsageError(
    `${command} reads the SQLite state in state_dir; with database_url set to PostgreSQL it is not available yet: ${instead}`,
  );
}
