// Opening an existing state directory's queue database for the commands that only read it (report,
// manifest export): a missing database is an error naming the directory, never a new empty one.
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { databasePath, openStateDatabase, referenceDatabaseIn, SchemaTooNewError } from "../store/db.ts";
import { RuntimeFailure, UsageError } from "./common.ts";

export function openExistingState(stateDir: string): Database {
  if (!existsSync(databasePath(stateDir)) && referenceDatabaseIn(stateDir) === null) {
    throw new RuntimeFailure(
      `no queue database in ${stateDir} (expected ${databasePath(stateDir)}; set --state-dir or state_dir)`,
    );
  }
  try {
    return openStateDatabase(stateDir);
  } catch (error) {
    if (error instanceof SchemaTooNewError) throw new UsageError(error.message);
    const message = error instanceof Error ? error.message : String(error);
    throw new RuntimeFailure(`cannot open the queue database in ${stateDir}: ${message}`);
  }
}
