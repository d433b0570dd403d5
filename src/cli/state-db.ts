// Opening an existing state directory's queue database for the commands that only read it (serve,
// report, queue stats/list/show, manifest export): read-only, so they work on a read-only state
// directory; a missing database is an error naming the directory, never a new empty one (a reference
// queue under its own name is converted first).
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import {
  DatabaseMissingError,
  databasePath,
  openDatabaseReadOnly,
  openStateDatabase,
  referenceDatabaseIn,
  SchemaTooNewError,
  SchemaTooOldError,
} from "../store/db.ts";
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
