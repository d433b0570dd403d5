// The queue commands as a user runs them: `bun src/main.ts queue …` in a subprocess against a
// temporary state directory; checks output, exit codes and what ends up in the database.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { openStateDatabase } from "../../src/store/db.ts";
import { SqliteJobQueue } from "../../src/store/sqlite-queue.ts";
import { tempDir } from "../support/temp.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
let dir: string;
let state: string;

beforeEach(() => {
  dir = tempDir("cli-queue");
  state = `${dir}/state`;
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[], stdin?: string) {
  const proc = Bun.spawn([process.execPath, MAIN, "queue", ...args, "--state-dir", state], {
    cwd: dir,
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1", DOCSTOKG_CONFIG: "" },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

function withQueue<T>(work: (q: SqliteJobQueue) => Promise<T>): Promise<T> {
  const db = openStateDatabase(state);
  const q = new SqliteJobQueue(
    db,
    { leaseTtlMs: 60_000, maxAttempts: 1, backoff: { baseMs: 0, capMs: 0 } },
    { now: Date.now },
  );
  return work(q).finally(() => db.close());
}

describe("queue import", () => {
  test("reports counts, shows the first 20 invalid lines, writes all of them beside the input; idempotent", async () => {
    const lines = [
      ...Array.from({ length: 30 }, (_, i) => `10.3000/${i}`),
      ...Array.from({ length: 25 }, (_, i) => `bad line ${i}`),
      "# comment",
      "",
    ];
    writeFileSync(`${dir}/works.txt`, lines.join("\n"));
    const first = await cli(["import", "works.txt"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("30 new, 0 duplicate, 25 invalid");
    expect(first.stdout).toContain("works.txt.rejects");
    const shown = first.stderr.split("\n").filter((l) => /^line \d+: /.test(l));
    expect(shown).toHaveLength(20);
    expect(shown[0]).toMatch(/^line 31: expected a DOI/);
    expect(first.stderr).toContain("… and 5 more invalid lines");
    expect(readFileSync(`${dir}/works.txt.rejects`, "utf8").trim().split("\n")).toHaveLength(25);
    const second = await cli(["import", "works.txt", "--json"]);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ added: 0, duplicate: 30, invalid: 25 });
  });

  test("reads stdin with -", async () => {
    const r = await cli(["import", "-"], "10.1/a\nPMC5\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("2 new, 0 duplicate, 0 invalid");
  });

  test("a truncated gzip: exit 1, a clear message, and what was read is kept", async () => {
    const gz = gzipSync(Array.from({ length: 40_000 }, (_, i) => `10.9/${i}`).join("\n"));
    writeFileSync(`${dir}/cut.txt.gz`, gz.subarray(0, Math.floor(gz.length / 2)));
    const r = await cli(["import", "cut.txt.gz"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /cut\.txt\.gz: reading stopped after line \d+: the compressed input is damaged or truncated/,
    );
    const kept = Number(/^([\d,]+) new/.exec(r.stdout)?.[1]?.replaceAll(",", ""));
    expect(kept).toBeGreaterThan(1000);
    expect(await withQueue(async (q) => (await q.stats()).total)).toBe(kept);
  });

  test("bad flags and missing files are usage errors naming them", async () => {
    writeFileSync(`${dir}/w.txt`, "10.1/a\n");
    const format = await cli(["import", "w.txt", "--format", "csv"]);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('--format: expected one of auto, artifact, openalex, ids, got "csv"');
    const missing = await cli(["import", "nope.jsonl"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope.jsonl: no such file");
  });

  test("a symbolic link planted at the rejects path: exit 2 naming it, its target untouched, nothing imported", async () => {
    writeFileSync(`${dir}/w.txt`, "10.1/a\nbad line\n");
    writeFileSync(`${dir}/victim`, "precious\n");
    symlinkSync(`${dir}/victim`, `${dir}/w.txt.rejects`);
    const r = await cli(["import", "w.txt"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("rejects file w.txt.rejects: is a symbolic link");
    expect(readFileSync(`${dir}/victim`, "utf8")).toBe("precious\n");
    expect(await withQueue(async (q) => (await q.stats()).total)).toBe(0);
  });

  test("credentials: user-info lines are invalid with a reason naming the line; secret parameters never reach ids, list or show", async () => {
    writeFileSync(
      `${dir}/urls.txt`,
      ["http://alice:hunter2@files.example/a.pdf", "https://files.example/b.pdf?api_key=s3cr3t&id=2"].join(
        "\n",
      ),
    );
    const r = await cli(["import", "urls.txt"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("1 new, 0 duplicate, 1 invalid");
    expect(r.stderr).toContain("line 1: expected a URL without user name or password");
    expect(r.stderr).not.toContain("hunter2");
    const list = await cli(["list", "--json"]);
    const show = await cli(["show", "url:https://files.example/b.pdf?api_key=REDACTED&id=2", "--json"]);
    expect(show.code).toBe(0);
    for (const text of [list.stdout, show.stdout, (await cli(["list"])).stdout]) {
      expect(text).toContain("api_key=REDACTED");
      expect(text).not.toContain("s3cr3t");
    }
    // The queue keeps the URL as given, so the file is fetched with its key.
    const stored = await withQueue((q) => q.show("url:https://files.example/b.pdf?api_key=REDACTED&id=2"));
    expect(stored?.job.artifact.pdf_urls).toEqual(["https://files.example/b.pdf?api_key=s3cr3t&id=2"]);
  });

  test("a database from a newer docstokg is a usage error", async () => {
    await withQueue(async (q) => {
      q.db.run("INSERT INTO schema_version (version, name, applied_at) VALUES (500, 'future', 0)");
    });
    const r = await cli(["stats"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("schema version 500");
    expect(r.stderr).toContain("use a newer docstokg");
  });
});

describe("inspecting and steering", () => {
  test("enqueue, stats, list, show, retry-failed, requeue, pause/resume", async () => {
    const enq = await cli(["enqueue", "10.1038/NATURE12373", "arXiv:2101.00001", "--priority", "2"]);
    expect(enq.code).toBe(0);
    expect(enq.stdout).toContain("2 new, 0 duplicate");
    expect((await cli(["enqueue", "--json", '{"doi":"10.1/x","shelf":"b3"}'])).code).toBe(0);
    const bad = await cli(["enqueue", "10.1/ok", "nonsense"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"nonsense": expected a DOI');
    // Nothing of a rejected command line is enqueued.
    expect(await withQueue(async (q) => await q.show("doi:10.1/ok"))).toBeNull();

    await withQueue(async (q) => {
      const [job] = await q.lease("t", 1);
      if (!job) throw new Error("no job");
      expect(job.priority).toBe(2);
      await q.fail(job.id, job.token, { reason: "not_found", transient: false });
    });

    const stats = JSON.parse((await cli(["stats", "--json"])).stdout);
    expect(stats.counts).toMatchObject({ queued: 2, error: 1 });
    const human = (await cli(["stats"])).stdout;
    expect(human).toMatch(/^queued\s+2\s+\(ready 2, delayed 0\)$/m);
    expect(human).toMatch(/^error\s+1$/m);

    const listed = (await cli(["list", "--state", "error", "--json"])).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ state: "error", lastReason: "not_found" });
    const table = (await cli(["list", "--limit", "2"])).stdout;
    expect(table.split("\n")[0]).toMatch(/^id\s+state\s+tries\s+reason\s+updated\s+artifact$/);
    expect((await cli(["list", "--limit", "0"])).code).toBe(2);

    const shown = JSON.parse((await cli(["show", String(listed[0].artifactId), "--json"])).stdout);
    expect(shown.outcomes[0]).toMatchObject({ state: "error", reason: "not_found" });
    expect((await cli(["show", "doi:10.1/x"])).stdout).toContain('"meta":{"shelf":"b3"}');

    expect((await cli(["retry-failed", "--reason", "timeout", "--dry-run"])).stdout).toContain(
      "would move 0",
    );
    expect((await cli(["retry-failed", "--reason", "not_found"])).stdout).toContain("moved 1");
    const requeue = await cli(["requeue", "doi:10.1/x", "doi:10.404/none"]);
    expect(requeue.code).toBe(2);
    expect(requeue.stdout).toContain("requeued 1");
    expect(requeue.stderr).toContain('no job with id "doi:10.404/none"');

    expect((await cli(["pause"])).code).toBe(0);
    expect(await withQueue(async (q) => await q.lease("t", 5))).toEqual([]);
    expect((await cli(["resume"])).code).toBe(0);
    expect(await withQueue(async (q) => (await q.lease("t", 5)).length)).toBe(3);
  });

  test("commands that only read never create a database; one that writes creates it where --state-dir says", async () => {
    for (const words of [["stats"], ["list"], ["show", "1"]]) {
      const r = await cli(words);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`no queue database in ${state}`);
      expect(existsSync(`${state}/queue.db`)).toBe(false);
    }
    expect((await cli(["pause"])).code).toBe(0);
    expect(existsSync(`${state}/queue.db`)).toBe(true);
    expect((await cli(["stats"])).code).toBe(0);
  });
});
