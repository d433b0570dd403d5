// `docstokg manifest export` through the built binary: formats, filters, and every bad flag named in
// one usage error (exit 2).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { CSV_COLUMNS } from "../../src/telemetry/export.ts";
import { builtBinary, runBinary } from "../support/binary.ts";
import { tempDir } from "../support/temp.ts";
import { buildReportFixture } from "../telemetry/report-fixture.ts";

let root: string;
let flags: string[];
beforeAll(() => {
  root = tempDir("cli-manifest");
  const fx = buildReportFixture(root);
  fx.db.close();
  flags = ["--state-dir", fx.stateDir];
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("docstokg manifest export", () => {
  test("JSONL by default, one line per outcome", async () => {
    const r = await runBinary(["manifest", "export", ...flags]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(10);
    expect(JSON.parse(lines[0] ?? "{}").v).toBe(2);
  }, 60_000);

  test("CSV with the header row and filters", async () => {
    const r = await runBinary([
      "manifest",
      "export",
      "--format",
      "csv",
      "--state",
      "error",
      "--since",
      "2026-01-10T12:00:07Z",
      ...flags,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const records = r.stdout.split("\r\n").filter(Boolean);
    expect(records[0]).toBe(CSV_COLUMNS.join(","));
    expect(records).toHaveLength(3); // header + jobs 7 and 8
  }, 60_000);

  test("bad flags: exit 2 naming every one and what was expected", async () => {
    const r = await runBinary([
      "manifest",
      "export",
      "--format",
      "xml",
      "--since",
      "last week",
      "--state",
      "finished",
      ...flags,
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('--format: expected one of jsonl, csv, got "xml"');
    expect(r.stderr).toContain(
      '--since: expected an ISO-8601 time like 2026-01-31 or 2026-01-31T12:00:00Z, got "last week"',
    );
    expect(r.stderr).toContain('--state: expected one of done, skipped, error, got "finished"');
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  }, 60_000);

  test("a reader that stops early (| head -1) is not an error", async () => {
    // Enough outcomes that the export is still writing when head has gone: the write meets EPIPE.
    const big = tempDir("cli-manifest-big");
    try {
      const fx = buildReportFixture(big);
      const insert = fx.db.query(
        "INSERT INTO outcomes (job_id, artifact_id, state, reason, finished_at, attempts) VALUES (10, 'doi:10.1/ten', 'error', 'timeout', 1, 1)",
      );
      fx.db.transaction(() => {
        for (let i = 0; i < 30_000; i++) insert.run();
      })();
      fx.db.close();
      const proc = Bun.spawn(
        [
          "bash",
          "-c",
          `set -o pipefail; "${await builtBinary()}" manifest export --state-dir "${fx.stateDir}" | head -1`,
        ],
        { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: big } },
      );
      const [code, out, err] = await Promise.all([
        proc.exited,
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
      ]);
      expect(code).toBe(0);
      expect(out.split("\n").filter((l) => l.startsWith("{"))).toHaveLength(1);
      expect(err).toBe("");
    } finally {
      rmSync(big, { recursive: true, force: true });
    }
  }, 60_000);
});
