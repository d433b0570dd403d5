// The report over a real run: the built runner drains the simulated catalogue, then `report --json
// --verify` must agree with the database and the catalogue's truth, every stored file must verify,
// the metadata requests must have been measured, and the CSV export must hold one row per outcome.
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { openState, stateCounts } from "../runner/harness.ts";
import { startApis } from "../support/apis.ts";
import { emptyDir, runBinary } from "../support/binary.ts";
import { buildCatalogue } from "../support/catalogue.ts";
import { prepareRunDir } from "../support/catalogue-run.ts";
import { startWeb } from "../support/web.ts";

const works = buildCatalogue(1);
const web = await startWeb();
const sim = await startApis(web, works);
const dir = emptyDir("docstokg-report-run-");
afterAll(async () => {
  await web.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("report after a real run", () => {
  test("figures agree with the database and the catalogue; files verify; CSV has every outcome", async () => {
    const run = prepareRunDir(dir, sim, works, {
      politeness: { breaker_reset_s: 1 },
      orchestrator: { drain_max_delay_s: 3 },
    });
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
    const cfg = ["--config", run.configFile];
    expect((await runBinary(["queue", "import", run.worksFile, ...cfg], { cwd: dir, env })).code).toBe(0);
    const ran = await runBinary(["queue", "run", "--drain", "--workers", "8", ...cfg], { cwd: dir, env });
    expect(ran.code).toBe(0);

    const out = await runBinary(["report", "--json", "--verify", ...cfg], { cwd: dir, env });
    expect(out.code).toBe(0);
    const r = JSON.parse(out.stdout);
    const db = openState(run.stateDir);
    let outcomes = 0;
    try {
      expect(r.jobs.by_state).toEqual(stateCounts(db));
      outcomes = db.query<{ n: number }, []>("SELECT count(*) AS n FROM outcomes").get()?.n ?? 0;
    } finally {
      db.close();
    }
    expect(r.jobs.total).toBe(works.length);
    const obtainable = works.filter((w) => w.expect.obtained).length;
    expect(r.yield.obtained).toBe(obtainable);
    const sum = (xs: { obtained: number }[]) => xs.reduce((a, x) => a + x.obtained, 0);
    expect(sum(r.yield.by_resolver)).toBe(obtainable);
    expect(sum(r.yield.by_tier)).toBe(obtainable);
    expect(r.verify.files).toBeGreaterThan(0);
    expect(r.verify).toMatchObject({ missing: 0, corrupt: 0, problems: [] });
    expect(r.verify.ok).toBe(r.verify.files);
    expect(r.bytes.files).toBe(r.verify.files);
    expect(r.objectives[0]).toMatchObject({ name: "corruption", status: "met", actual: 0 });
    // Metadata requests to the simulated APIs were recorded with their waits.
    expect(r.rate_wait_ms.metadata.count).toBeGreaterThan(0);
    expect(r.rate_wait_ms.artifact.count).toBeGreaterThan(0);
    expect(r.time_to_first_pdf_ms.count).toBeGreaterThan(0);
    expect(r.time_to_first_pdf_ms.p95).toBeGreaterThanOrEqual(r.time_to_first_pdf_ms.p50);
    expect(r.hosts.length).toBeGreaterThan(3);

    const csv = await runBinary(["manifest", "export", "--format", "csv", ...cfg], { cwd: dir, env });
    expect(csv.code).toBe(0);
    const py = Bun.spawnSync(
      ["python3", "-c", "import csv, sys; print(len(list(csv.reader(sys.stdin, strict=True))))"],
      { stdin: new TextEncoder().encode(csv.stdout) },
    );
    expect(Number(py.stdout.toString().trim())).toBe(outcomes + 1);

    const text = await runBinary(["report", "--check", ...cfg], { cwd: dir, env });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^jobs ${works.length}: done ${obtainable},`, "m"));
    expect(text.stdout).toMatch(/^ {2}ok {3}metadata_rate_wait_p95/m);
  }, 120_000);
});
