// Ordered schema migrations. Each entry moves the database from version-1 to version; entries are
// never edited once released — a change is a new entry at the end.
import type { Database } from "bun:sqlite";
import { createQueueSchema } from "./queue-schema.ts";

export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}

export const MIGRATIONS: Migration[] = [
  // 1: queue (jobs, attempts, outcomes, settings, manifest outbox) — src/store/queue-schema.ts
  { version: 1, name: "queue", up: createQueueSchema },
  // 2: politeness (host rate/cooldown/breaker state, robots cache, metadata http cache) — src/politeness, src/net
  {
    // The metadata HTTP cache (src/net/cache.ts); key = SHA-256 of the URL, so no secret rests here.
    version: 3,
    name: "http_cache",
    up(db) {
      db.run(`CREATE TABLE http_cache (
        key TEXT PRIMARY KEY,
        status INTEGER NOT NULL,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        stored_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        etag TEXT,
        last_modified TEXT
      ) WITHOUT ROWID`);
    },
  },
];
