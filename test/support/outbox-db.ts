// A queue database with the tables the manifest outbox reads (jobs, outcomes with seq, outbox mark),
// as in the store's schema version 1, and a helper that commits outcomes the way an ack does.
import { Database } from "bun:sqlite";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY, artifact_id TEXT NOT NULL UNIQUE, artifact TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'queued'
);
CREATE TABLE IF NOT EXISTS outcomes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id INTEGER NOT NULL REFERENCES jobs (id),
  artifact_id TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL, message TEXT, resolver TEXT,
  tier INTEGER, url TEXT, final_url TEXT, sha256 TEXT, bytes INTEGER, content_type TEXT, path TEXT,
  etag TEXT, last_modified TEXT, first_attempt_at INTEGER, finished_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (name TEXT PRIMARY KEY, high_water INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
INSERT OR IGNORE INTO outbox (name, high_water) VALUES ('manifest', 0);
`;

export function openOutboxDb(path: string): Database {
  const db = new Database(path, { create: true });
  db.run("PRAGMA busy_timeout = 10000");
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = NORMAL");
  db.transaction(() => db.run(SCHEMA)).immediate();
  return db;
}

/** Commits `n` finished jobs with their outcomes in one transaction; returns the new outcome count. */
export function commitOutcomes(db: Database, n: number, now = Date.now()): number {
  return db
    .transaction(() => {
      const start = db.query<{ n: number }, []>("SELECT count(*) AS n FROM jobs").get()?.n ?? 0;
      for (let i = start + 1; i <= start + n; i++) {
        const id = `doi:10.1000/w${i}`;
        const artifact = {
          id,
          doi: `10.1000/w${i}`,
          title: `Work ${i} — “quoted” \\ é`,
          year: 2020,
          meta: { row: i },
        };
        const job = db
          .query<{ id: number }, [string, string]>(
            "INSERT INTO jobs (artifact_id, artifact, state) VALUES (?, ?, 'done') RETURNING id",
          )
          .get(id, JSON.stringify(artifact));
        db.query(
          `INSERT INTO outcomes (job_id, artifact_id, state, reason, resolver, tier, url, final_url, sha256, bytes,
             content_type, path, first_attempt_at, finished_at, attempts)
           VALUES (?, ?, ?, ?, 'unpaywall', 2, ?, ?, ?, ?, 'application/pdf', ?, ?, ?, 1)`,
        ).run(
          job?.id ?? 0,
          id,
          i % 7 === 0 ? "error" : "done",
          i % 7 === 0 ? "http_500" : "ok",
          `https://pdfs.example/w${i}.pdf?api_key=k${i}`,
          `https://cdn.example/w${i}.pdf`,
          (i * 2654435761).toString(16).padStart(64, "0").slice(-64),
          1000 + i,
          `pdf/${String(i % 100).padStart(2, "0")}/w${i}.pdf`,
          now - 1000,
          now,
        );
      }
      return start + n;
    })
    .immediate();
}
