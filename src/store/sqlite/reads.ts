// The whole-queue reads (types.ts) on the SQLite state database: the statements `report`,
// `manifest export`, `report --verify` and the status page have always run, one per function.
import type { Database } from "bun:sqlite";
import { failuresByReason } from "../jobs/failures.ts";
import {
  OUTCOME_WITH_ARTIFACT_COLUMNS,
  type OutcomeWithArtifactRecordRow,
  toOutcomeWithArtifact,
} from "../jobs/rows.ts";
import { jobsByKeys } from "../jobs/search.ts";
import type { DigestRow, LinkRow, MinuteRow, QueuedWorkRow, StateReads } from "../reads.ts";
import { sqliteReportRows, sqliteYieldRows } from "./report.ts";

/** Content-addressed copies, one per distinct digest among done outcomes: pages of outcomes_sha256_idx. */
export const DIGESTS = `SELECT sha256, max(content_type) AS content_type, max(bytes) AS bytes FROM outcomes
  WHERE state = 'done' AND sha256 IS NOT NULL AND sha256 > ?1 AND finished_at >= ?2
  GROUP BY sha256 ORDER BY sha256 LIMIT ?3`;
// Each done job's latest outcome names its own path (the by-id link) too.
const LINKS_WHERE = `FROM outcomes o JOIN jobs j ON j.id = o.job_id
  WHERE j.state = 'done' AND o.state = 'done' AND o.sha256 IS NOT NULL AND o.path IS NOT NULL AND o.seq > ?1
    AND o.finished_at >= ?2
    AND o.seq = (SELECT max(seq) FROM outcomes i WHERE i.job_id = o.job_id)`;

// Keyset pages by seq; the filters take neutral values (0, '') when not asked for.
const OUTCOME_PAGE = `SELECT ${OUTCOME_WITH_ARTIFACT_COLUMNS}
  FROM outcomes o LEFT JOIN jobs j ON j.id = o.job_id
  WHERE o.seq > ?1 AND o.finished_at >= ?2 AND (?3 = '' OR o.state = ?3)
  ORDER BY o.seq LIMIT ?4`;

export function outcomePage(
  db: Database,
  after: number,
  since: number,
  state: string,
  limit: number,
): ReturnType<typeof toOutcomeWithArtifact>[] {
  return db
    .query<OutcomeWithArtifactRecordRow, [number, number, string, number]>(OUTCOME_PAGE)
    .all(after, since, state, limit)
    .map(toOutcomeWithArtifact);
}

export function verifyTotal(db: Database, since: number): number {
  const digests =
    db
      .query<{ n: number }, [number]>(
        "SELECT count(DISTINCT sha256) AS n FROM outcomes WHERE state = 'done' AND sha256 IS NOT NULL AND finished_at >= ?1",
      )
      .get(since)?.n ?? 0;
  const links =
    db.query<{ n: number }, [number, number]>(`SELECT count(*) AS n ${LINKS_WHERE}`).get(0, since)?.n ?? 0;
  return digests + links;
}

export function digestPage(db: Database, after: string, since: number, limit: number): DigestRow[] {
  return db.query<DigestRow, [string, number, number]>(DIGESTS).all(after, since, limit);
}

export function linkPage(db: Database, after: number, since: number, limit: number): LinkRow[] {
  return db
    .query<LinkRow, [number, number, number]>(
      `SELECT o.seq, o.sha256, o.content_type, o.bytes, o.path ${LINKS_WHERE} ORDER BY o.seq LIMIT ?3`,
    )
    .all(after, since, limit);
}

export function sqliteReads(db: Database): StateReads {
  const after = db.query<{ n: number; b: number; s: number | null }, [number]>(
    "SELECT count(*) AS n, total(bytes) AS b, max(seq) AS s FROM outcomes WHERE seq > ?",
  );
  const probe = db.query("SELECT 1 FROM jobs LIMIT 1");
  const queuedWork = db.query<QueuedWorkRow, [number, number]>(
    "SELECT id, artifact, progress FROM jobs WHERE state IN ('queued', 'in_progress') AND id > ? ORDER BY id LIMIT ?",
  );
  const reads: StateReads = {
    ping: () => {
      probe.all();
      return true;
    },
    outcomePage: (a, since, state, limit) => outcomePage(db, a, since, state, limit),
    reportRows: () => sqliteReportRows(db),
    verifyTotal: (since) => verifyTotal(db, since),
    digestPage: (a, since, limit) => digestPage(db, a, since, limit),
    linkPage: (a, since, limit) => linkPage(db, a, since, limit),
    searchJobs: (ids, jobId) => jobsByKeys(db, ids, jobId),
    failures: () => failuresByReason(db),
    yieldRows: () => sqliteYieldRows(db),
    outcomesAfter: (seq) => after.get(seq) ?? { n: 0, b: 0, s: null },
    maxOutcomeSeq: () =>
      db.query<{ s: number | null }, []>("SELECT max(seq) AS s FROM outcomes").get()?.s ?? 0,
    outcomesPerMinute: (from) =>
      db
        .query<MinuteRow, [number]>(
          `SELECT finished_at / 60000 AS m, count(*) AS n, total(bytes) AS b, max(seq) AS s
             FROM outcomes WHERE finished_at >= ? GROUP BY m ORDER BY m`,
        )
        .all(from),
    queuedWorkPage: (a, limit) => queuedWork.all(a, limit),
    snapshot: (fn) => fn(reads),
  };
  return reads;
}
