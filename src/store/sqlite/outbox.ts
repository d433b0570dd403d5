// The manifest outbox on the SQLite queue database: `outcomes` (seq), `jobs` (artifact) and
// `outbox` (the high-water mark per name, migration 1), one statement per function.
import type { Database } from "bun:sqlite";
import {
  OUTCOME_WITH_ARTIFACT_COLUMNS,
  type OutcomeWithArtifact,
  type OutcomeWithArtifactRecordRow,
  toOutcomeWithArtifact,
} from "../jobs/rows.ts";
import type { OutboxStore } from "../outbox.ts";

export function outboxHighWater(db: Database, name: string): number {
  return (
    db.query<{ high_water: number }, [string]>("SELECT high_water FROM outbox WHERE name = ?").get(name)
      ?.high_water ?? 0
  );
}

export function setOutboxHighWater(db: Database, name: string, seq: number): void {
  db.query<unknown, [number, string]>("UPDATE outbox SET high_water = ? WHERE name = ?").run(seq, name);
}

/** The newest outcome's seq (0 when there is none). */
export function newestOutcomeSeq(db: Database): number {
  return db.query<{ s: number | null }, []>("SELECT max(seq) AS s FROM outcomes").get()?.s ?? 0;
}

/** Up to `limit` outcomes after `seq`, by seq, each with its job's artifact. */
export function outcomesWithArtifactAfter(db: Database, seq: number, limit: number): OutcomeWithArtifact[] {
  return db
    .query<OutcomeWithArtifactRecordRow, [number, number]>(
      `SELECT ${OUTCOME_WITH_ARTIFACT_COLUMNS}
       FROM outcomes o LEFT JOIN jobs j ON j.id = o.job_id
      WHERE o.seq > ? ORDER BY o.seq LIMIT ?`,
    )
    .all(seq, limit)
    .map(toOutcomeWithArtifact);
}

/** The outbox over the queue database; `name` is its row in `outbox`. */
export function sqliteOutboxStore(db: Database, name = "manifest"): OutboxStore {
  return {
    exclusive: (fn) => db.transaction(fn).immediate(),
    highWater: () => outboxHighWater(db, name),
    setHighWater: (seq) => setOutboxHighWater(db, name, seq),
    maxSeq: () => newestOutcomeSeq(db),
    outcomesAfter: (seq, limit) => outcomesWithArtifactAfter(db, seq, limit),
  };
}
