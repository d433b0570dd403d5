// The manifest outbox as the store offers it to telemetry/manifest.ts: committed outcomes in seq
// order and a high-water mark of what the manifest file holds, read and moved under one lock so
// two appenders never write the same outcome (SQLite in sqlite/outbox.ts).
import type { OutcomeWithArtifact } from "./jobs/rows.ts";

/** Where the outbox reads outcomes and keeps its high-water mark (the store's tables). */
export interface OutboxStore {
  /** Runs fn holding the lock every appender takes (SQLite: BEGIN IMMEDIATE … COMMIT). */
  exclusive<T>(fn: () => T): T;
  highWater(): number;
  setHighWater(seq: number): void;
  /** The newest outcome's seq (0 when there is none). */
  maxSeq(): number;
  outcomesAfter(seq: number, limit: number): OutcomeWithArtifact[];
}
