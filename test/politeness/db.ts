// A database with the politeness tables only (migration 2 and the later ones that extend them),
// independent of the queue's migration.
import { Database } from "bun:sqlite";
import { MIGRATIONS } from "../../src/store/migrations.ts";

export function politenessMigration() {
  const m = MIGRATIONS.find((x) => x.name === "politeness");
  if (!m) throw new Error("migration 'politeness' is missing");
  return m;
}

/** Open (or create) a database file, or ":memory:", with the pragmas the store uses, and migrate. */
export function openPolitenessDb(path = ":memory:", migrate = true): Database {
  const db = new Database(path, { create: true });
  db.run("PRAGMA busy_timeout = 5000");
  if (path !== ":memory:") {
    db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA synchronous = NORMAL");
  }
  if (migrate) {
    politenessMigration().up(db);
    for (const m of MIGRATIONS) if (m.name === "breaker_reason") m.up(db);
  }
  return db;
}
