// Finding jobs by what an operator has at hand: an artifact id, a DOI in any spelling (bare, `doi:`,
// a doi.org URL), or a job id. Every lookup is a unique-key probe; nothing scans the queue.
import type { Database } from "bun:sqlite";
import { normalizeDoi } from "../../artifact/identifiers.ts";
import type { JobRow } from "../types.ts";
import { JOB_COLUMNS, type JobRecord, toJobRow } from "./rows.ts";

/** The artifact ids and job id a query may name, most specific first. */
export function searchKeys(query: string): { artifactIds: string[]; jobId: number | null } {
  const q = query.trim();
  const artifactIds = [q];
  const doi = normalizeDoi(q);
  if (doi) artifactIds.push(`doi:${doi}`);
  // An artifact id is case-sensitive; a DOI is not, so a pasted `doi:10.1000/ABC` still matches.
  if (/^doi:/i.test(q) && !doi) artifactIds.push(q.toLowerCase());
  const jobId = /^#?\d{1,15}$/.test(q) ? Number(q.replace("#", "")) : null;
  return { artifactIds: [...new Set(artifactIds)], jobId };
}

/** The jobs with these artifact ids or this job id (searchKeys' answer), each once. */
export function jobsByKeys(db: Database, artifactIds: readonly string[], jobId: number | null): JobRow[] {
  const byArtifact = db.query<JobRecord, [string]>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE artifact_id = ?1`);
  const byId = db.query<JobRecord, [number]>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?1`);
  const found = new Map<number, JobRecord>();
  for (const key of artifactIds) {
    const row = byArtifact.get(key);
    if (row) found.set(row.id, row);
  }
  if (jobId !== null && Number.isSafeInteger(jobId)) {
    const row = byId.get(jobId);
    if (row) found.set(row.id, row);
  }
  return [...found.values()].map(toJobRow);
}
