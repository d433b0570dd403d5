// Outcome rows: one per terminal transition, numbered by `seq` in commit order for the manifest
// outbox. Always written inside the transaction that moves the job to its terminal state.
import type { Database } from "bun:sqlite";
import { redactText, redactUrl } from "../../core/redact.ts";
import type { OutcomeDetail, TerminalState } from "../types.ts";

const INSERT_OUTCOME = `INSERT INTO outcomes
  (job_id, artifact_id, state, reason, message, resolver, tier, url, final_url, sha256, bytes, content_type, path,
   etag, last_modified, first_attempt_at, finished_at, attempts, license, license_url, version, host_type, oa_status)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)`;

export interface OutcomeFacts {
  jobId: number;
  artifactId: string;
  state: TerminalState;
  reason: string;
  firstAttemptAt: number | null;
  finishedAt: number;
  attempts: number;
}

export type InsertOutcome = (facts: OutcomeFacts, detail: OutcomeDetail) => void;

/** The outcome insert for one connection, prepared once (it runs once per finished job). */
export function prepareInsertOutcome(db: Database): InsertOutcome {
  const insert = db.query(INSERT_OUTCOME);
  return (facts, d) => {
    insert.run(
      facts.jobId,
      facts.artifactId,
      facts.state,
      facts.reason,
      // Recorded without credentials (the artifact keeps the URL as given, for fetching).
      d.message == null ? null : redactText(d.message),
      d.resolver ?? null,
      d.tier ?? null,
      d.url == null ? null : redactUrl(d.url),
      d.finalUrl == null ? null : redactUrl(d.finalUrl),
      d.sha256 ?? null,
      d.bytes ?? null,
      d.contentType ?? null,
      d.path ?? null,
      d.etag ?? null,
      d.lastModified ?? null,
      facts.firstAttemptAt,
      facts.finishedAt,
      facts.attempts,
      d.license ?? null,
      d.licenseUrl ?? null,
      d.version ?? null,
      d.hostType ?? null,
      d.oaStatus ?? null,
    );
  };
}
