// OpenAlex pulls (SPEC 15) in the queue database: one row per normalized filter + search with the
// cursor to ask next, the counts so far and the state. A page's jobs and the cursor after it commit
// in one transaction, guarded by the cursor the page was asked with, so a pull killed at any point
// resumes at the first page not committed and two processes on one pull never both commit a page.
import type { Database } from "bun:sqlite";
import type { Artifact } from "../artifact/artifact.ts";
import { insertJobs } from "./jobs/enqueue.ts";
import type { Maybe } from "./maybe.ts";

export const PULL_STATES = ["running", "done", "failed"] as const;
export type PullState = (typeof PULL_STATES)[number];

/** The cursor of a pull's first page. */
export const FIRST_CURSOR = "*";

export function createPullsSchema(db: Database): void {
  // cursor: what to ask next ('*' first, NULL once done). works: records read; queued: new jobs;
  // duplicate: works already in the queue; invalid: records that were not usable works.
  db.run(`CREATE TABLE openalex_pulls (
    id INTEGER PRIMARY KEY,
    filter TEXT NOT NULL,
    search TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
    cursor TEXT,
    pages INTEGER NOT NULL DEFAULT 0,
    works INTEGER NOT NULL DEFAULT 0,
    queued INTEGER NOT NULL DEFAULT 0,
    duplicate INTEGER NOT NULL DEFAULT 0,
    invalid INTEGER NOT NULL DEFAULT 0,
    count INTEGER,
    cost_usd REAL NOT NULL DEFAULT 0,
    page_cost_usd REAL,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (filter, search)
  )`);
}

export interface PullRow {
  id: number;
  filter: string;
  search: string;
  state: PullState;
  cursor: string | null;
  pages: number;
  works: number;
  queued: number;
  duplicate: number;
  invalid: number;
  /** What OpenAlex last reported as the query's count. */
  count: number | null;
  cost_usd: number;
  /** What the last page cost, per OpenAlex. */
  page_cost_usd: number | null;
  error: string | null;
  created_at: number;
  updated_at: number;
}

const COLUMNS =
  "id, filter, search, state, cursor, pages, works, queued, duplicate, invalid, count, cost_usd, page_cost_usd, error, created_at, updated_at";

export function findPull(db: Database, filter: string, search: string): PullRow | null {
  return db
    .query<PullRow, [string, string]>(
      `SELECT ${COLUMNS} FROM openalex_pulls WHERE filter = ?1 AND search = ?2`,
    )
    .get(filter, search);
}

/** The pull of this filter + search, created when new; a failed one runs again, a done one stays done. */
export function startPull(db: Database, filter: string, search: string, now: number): PullRow {
  return db
    .query<PullRow, [string, string, string, number]>(
      `INSERT INTO openalex_pulls (filter, search, cursor, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
       ON CONFLICT (filter, search) DO UPDATE SET
         state = CASE WHEN state = 'failed' THEN 'running' ELSE state END,
         error = CASE WHEN state = 'failed' THEN NULL ELSE error END,
         updated_at = CASE WHEN state = 'failed' THEN ?4 ELSE updated_at END
       RETURNING ${COLUMNS}`,
    )
    .get(filter, search, FIRST_CURSOR, now) as PullRow;
}

export interface PageCommit {
  pullId: number;
  /** The cursor the page was asked with: the commit applies only if the pull still stands there. */
  cursor: string;
  /** The cursor after this page; null ends the pull. */
  nextCursor: string | null;
  works: readonly Artifact[];
  invalid: number;
  count: number;
  costUsd: number;
  now: number;
}

/** Another process committed this page first (or the pull ended meanwhile): nothing was written. */
export class PullMovedError extends Error {
  override name = "PullMovedError";
}

/**
 * A page's jobs (the queue's own insert, so duplicates are counted, not added) and the pull's cursor
 * and counts, in one transaction; answers how many jobs were new.
 */
export function commitPage(db: Database, p: PageCommit): number {
  return db
    .transaction(() => {
      const added = insertJobs(db, p.works, p.now);
      const moved = db
        .query(
          `UPDATE openalex_pulls SET
             cursor = ?3,
             state = CASE WHEN ?3 IS NULL THEN 'done' ELSE 'running' END,
             pages = pages + 1,
             works = works + ?4,
             queued = queued + ?5,
             duplicate = duplicate + ?4 - ?5,
             invalid = invalid + ?6,
             count = ?7,
             cost_usd = cost_usd + ?8,
             page_cost_usd = ?8,
             error = NULL,
             updated_at = ?9
           WHERE id = ?1 AND cursor = ?2 AND state = 'running'`,
        )
        .run(p.pullId, p.cursor, p.nextCursor, p.works.length, added, p.invalid, p.count, p.costUsd, p.now);
      if (moved.changes !== 1) throw new PullMovedError(`pull ${p.pullId} is no longer at this page`);
      return added;
    })
    .immediate();
}

/** A pull that cannot go on as asked (refused key, rejected filter): failed, with why. */
export function failPull(db: Database, pullId: number, error: string, now: number): void {
  db.query(
    "UPDATE openalex_pulls SET state = 'failed', error = ?2, updated_at = ?3 WHERE id = ?1 AND state = 'running'",
  ).run(pullId, error, now);
}

/** Every pull, most recently updated first. */
export function listPulls(db: Database): PullRow[] {
  return db
    .query<PullRow, []>(`SELECT ${COLUMNS} FROM openalex_pulls ORDER BY updated_at DESC, id DESC`)
    .all();
}

/** The pulls as `openalex import`/`list` use them: SQLite (`sqlitePullStore`) or postgres/pulls.ts. */
export interface PullStore {
  find(filter: string, search: string): Maybe<PullRow | null>;
  start(filter: string, search: string, now: number): Maybe<PullRow>;
  /** commitPage's contract: the page's jobs and the cursor after it in one transaction; new jobs. */
  commitPage(p: PageCommit): Maybe<number>;
  fail(pullId: number, error: string, now: number): Maybe<void>;
  list(): Maybe<PullRow[]>;
}

export function sqlitePullStore(db: Database): PullStore {
  return {
    find: (filter, search) => findPull(db, filter, search),
    start: (filter, search, now) => startPull(db, filter, search, now),
    commitPage: (p) => commitPage(db, p),
    fail: (pullId, error, now) => failPull(db, pullId, error, now),
    list: () => listPulls(db),
  };
}
