import { describe, expect, test } from "bun:test";
import { openDatabase } from "../../src/store/db.ts";
import { listJobs } from "../../src/store/jobs/list.ts";

/** Jobs 1..n with the given state and reason per id (inserted directly: only the listing is under test). */
function dbWith(rows: [state: string, reason: string | null][]) {
  const db = openDatabase(":memory:");
  const insert = db.query(
    "INSERT INTO jobs (id, artifact_id, artifact, state, last_reason, available_at, created_at, updated_at) VALUES (?, ?, '{}', ?, ?, 0, 0, 0)",
  );
  rows.forEach(([state, reason], i) => {
    insert.run(i + 1, `a:${i + 1}`, state, reason);
  });
  return db;
}

describe("listJobs across the reasons of failed and skipped jobs", () => {
  test("newest first over every reason (none, empty, several), paged by cursor without gaps or repeats", () => {
    const reasons = ["http_404", null, "timeout", "", "http_404", "no_pdf", "timeout", null, "http_500"];
    const rows: [string, string | null][] = [];
    for (let i = 0; i < 60; i++)
      rows.push([i % 3 === 0 ? "done" : "error", reasons[i % reasons.length] ?? null]);
    const db = dbWith(rows);
    const expected = rows.flatMap(([s], i) => (s === "error" ? [i + 1] : [])).reverse();
    const seen: number[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const page = listJobs(db, { state: "error", limit: 7, cursor });
      seen.push(...page.jobs.map((j) => j.id));
      expect(page.jobs.every((j) => j.state === "error")).toBe(true);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(expected);
  });

  test("a reason filter still reads only that reason", () => {
    const db = dbWith([
      ["error", "timeout"],
      ["skipped", "timeout"],
      ["error", "http_404"],
      ["error", "timeout"],
    ]);
    expect(listJobs(db, { state: "error", reason: "timeout" }).jobs.map((j) => j.id)).toEqual([4, 1]);
    expect(listJobs(db, { state: "skipped" }).jobs.map((j) => j.id)).toEqual([2]);
  });
});
