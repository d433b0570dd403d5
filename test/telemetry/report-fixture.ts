// A state directory with known contents for the report, verify and export tests: jobs in every
// state, outcomes (one job requeued and done twice), attempts on three hosts with chosen statuses and
// rate waits, a breaker that opened twice, and library files whose digests the rows record. The
// expected figures are worked out by hand in report.test.ts from the numbers here.
import type { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { linkSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { byIdPath, libraryPath } from "../../src/download/finalize.ts";
import type { StoredKind } from "../../src/download/types.ts";
import { openStateDatabase } from "../../src/store/db.ts";

export interface StoredContent {
  sha256: string;
  bytes: number;
  kind: StoredKind;
  contentType: string;
}

function content(fill: string, bytes: number, kind: StoredKind): { data: Buffer; file: StoredContent } {
  const data = Buffer.alloc(bytes, fill);
  data.write(kind === "pdf" ? "%PDF-1.7\n" : "<article>", 0);
  const sha256 = createHash("sha256").update(data).digest("hex");
  const contentType = kind === "pdf" ? "application/pdf" : kind === "xml" ? "application/xml" : "text/html";
  return { data, file: { sha256, bytes, kind, contentType } };
}

export interface ReportFixture {
  db: Database;
  stateDir: string;
  outDir: string;
  files: Record<"A" | "B" | "C" | "D", StoredContent & { path: string }>;
  /** The by-id path recorded for each done job. */
  links: Record<string, string>;
}

interface JobSpec {
  id: number;
  artifact: Record<string, unknown>;
  state: string;
  reason?: string;
  firstAttemptAt?: number;
}

interface OutcomeSpec {
  job: number;
  state: string;
  reason: string;
  resolver?: string;
  tier?: number;
  file?: "A" | "B" | "C" | "D";
  firstAttemptAt?: number;
  finishedAt: number;
  message?: string;
}

const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);

export function buildReportFixture(root: string): ReportFixture {
  const stateDir = join(root, "state");
  const outDir = join(root, "library");
  const db = openStateDatabase(stateDir);

  const contents = {
    A: content("a", 1000, "pdf"),
    B: content("b", 2000, "pdf"),
    C: content("c", 500, "xml"),
    D: content("d", 4000, "pdf"),
  };
  const files = {} as ReportFixture["files"];
  for (const [name, c] of Object.entries(contents) as [keyof typeof contents, (typeof contents)["A"]][]) {
    const path = libraryPath(outDir, c.file.kind, c.file.sha256);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, c.data);
    files[name] = { ...c.file, path };
  }

  const jobs: JobSpec[] = [
    {
      id: 1,
      artifact: { id: "doi:10.1/one", doi: "10.1/one", title: "Plain title" },
      state: "done",
      reason: "ok",
    },
    {
      id: 2,
      artifact: { id: "doi:10.1/two", doi: "10.1/two", title: 'Commas, "quotes"\nand a newline', year: 2020 },
      state: "done",
      reason: "ok",
    },
    {
      id: 3,
      artifact: { id: "doi:10.1/three", title: "Ünïcödé — dash" },
      state: "done",
      reason: "duplicate_content",
    },
    { id: 4, artifact: { id: "pmcid:PMC4" }, state: "done", reason: "ok" },
    { id: 5, artifact: { id: "doi:10.1/five", meta: { batch: "b,1" } }, state: "done", reason: "ok" },
    { id: 6, artifact: { id: "doi:10.1/six" }, state: "error", reason: "not_found" },
    { id: 7, artifact: { id: "doi:10.1/seven" }, state: "error", reason: "not_found" },
    { id: 8, artifact: { id: "doi:10.1/eight" }, state: "error", reason: "timeout" },
    { id: 9, artifact: { id: "doi:10.1/nine" }, state: "skipped", reason: "robots_disallowed" },
    { id: 10, artifact: { id: "doi:10.1/ten" }, state: "queued" },
    { id: 11, artifact: { id: "doi:10.1/eleven" }, state: "in_progress" },
  ];
  const insertJob = db.query(
    `INSERT INTO jobs (id, artifact_id, artifact, state, available_at, last_reason, first_attempt_at, created_at, updated_at, attempts)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
  );
  for (const j of jobs) {
    insertJob.run(
      j.id,
      String(j.artifact.id),
      JSON.stringify(j.artifact),
      j.state,
      T0,
      j.reason ?? null,
      j.firstAttemptAt ?? T0,
      T0,
      T0,
    );
  }

  // Time to first PDF (first done PDF outcome per job): job 1 1000 ms, 2 3000, 3 5000, 5 2000 (its
  // later second outcome, 9000, does not count); job 4 is XML and does not count either.
  const outcomes: OutcomeSpec[] = [
    { job: 1, state: "done", reason: "ok", resolver: "direct", tier: 1, file: "A", finishedAt: T0 + 1000 },
    { job: 5, state: "done", reason: "ok", resolver: "direct", tier: 1, file: "D", finishedAt: T0 + 2000 },
    { job: 2, state: "done", reason: "ok", resolver: "unpaywall", tier: 2, file: "B", finishedAt: T0 + 3000 },
    {
      job: 3,
      state: "done",
      reason: "duplicate_content",
      resolver: "unpaywall",
      tier: 2,
      file: "A",
      finishedAt: T0 + 5000,
    },
    { job: 4, state: "done", reason: "ok", resolver: "landing", tier: 3, file: "C", finishedAt: T0 + 200 },
    {
      job: 6,
      state: "error",
      reason: "not_found",
      finishedAt: T0 + 6000,
      message: "https://x.example/6: 404",
    },
    { job: 7, state: "error", reason: "not_found", finishedAt: T0 + 7000 },
    { job: 8, state: "error", reason: "timeout", finishedAt: T0 + 8000 },
    { job: 9, state: "skipped", reason: "robots_disallowed", finishedAt: T0 + 8500 },
    { job: 5, state: "done", reason: "ok", resolver: "direct", tier: 1, file: "D", finishedAt: T0 + 9000 },
  ];
  const insertOutcome = db.query(
    `INSERT INTO outcomes (job_id, artifact_id, state, reason, message, resolver, tier, url, final_url, sha256, bytes,
       content_type, path, first_attempt_at, finished_at, attempts)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
  );
  const links: Record<string, string> = {};
  for (const o of outcomes) {
    const job = jobs.find((j) => j.id === o.job);
    const artifactId = String(job?.artifact.id);
    const f = o.file ? files[o.file] : undefined;
    let path: string | null = null;
    if (f) {
      path = byIdPath(outDir, artifactId, f.kind);
      mkdirSync(join(path, ".."), { recursive: true });
      if (!links[artifactId]) linkSync(f.path, path);
      links[artifactId] = path;
    }
    insertOutcome.run(
      o.job,
      artifactId,
      o.state,
      o.reason,
      o.message ?? null,
      o.resolver ?? null,
      o.tier ?? null,
      f ? `https://files.example/${o.job}.pdf?api_key=secret` : null,
      f ? `https://files.example/${o.job}.pdf` : null,
      f?.sha256 ?? null,
      f?.bytes ?? null,
      f?.contentType ?? null,
      path,
      o.firstAttemptAt ?? T0,
      o.finishedAt,
    );
  }

  // Attempts. a.example: 20 artifact tries (role NULL), rate waits 1..20 ms, one answered 429;
  // resolvers direct ×12 and unpaywall ×8. b.example: 50 metadata requests for unpaywall, waits 0 ×45
  // and 300 ×5, those 300 ms all spent in a cool-down the host imposed (held back). c.example: 3
  // artifact tries by `landing`: a breaker refusal (never sent), a timeout and a 200, waits 0.
  // d.example: 2 landing-page requests by `doi`, waits 80 and 40 ms.
  const insertAttempt = db.query(
    `INSERT INTO attempts (job_id, resolver, host, role, http_status, reason, rate_wait_ms, at, held_back_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (let i = 1; i <= 20; i++) {
    insertAttempt.run(
      1,
      i <= 12 ? "direct" : "unpaywall",
      "a.example",
      null,
      i === 7 ? 429 : 200,
      null,
      i,
      T0 + i,
      null,
    );
  }
  for (let i = 1; i <= 50; i++) {
    const wait = i <= 45 ? 0 : 300;
    insertAttempt.run(2, "unpaywall", "b.example", "metadata", 200, null, wait, T0 + i, wait);
  }
  insertAttempt.run(4, "landing", "c.example", null, null, "breaker_open", 0, T0, null);
  insertAttempt.run(4, "landing", "c.example", null, null, "timeout", 0, T0, null);
  insertAttempt.run(4, "landing", "c.example", null, 200, null, 0, T0, null);
  insertAttempt.run(4, "doi", "d.example", "landing", 200, null, 80, T0, 0);
  insertAttempt.run(4, "doi", "d.example", "landing", 200, null, 40, T0, 0);

  // c.example's breaker: closed → open → (rewritten while open) → half-open → open: two openings.
  const writeHost = db.query(
    "INSERT OR REPLACE INTO host_state (host, breaker, failures, updated_at, breaker_reason) VALUES ('c.example', ?, ?, ?, ?)",
  );
  writeHost.run("closed", 4, T0, null);
  writeHost.run("open", 5, T0 + 1, "conn_error");
  writeHost.run("open", 5, T0 + 2, "conn_error");
  writeHost.run("half_open", 5, T0 + 3, "conn_error");
  writeHost.run("open", 6, T0 + 4, "timeout");

  return { db, stateDir, outDir, files, links };
}
