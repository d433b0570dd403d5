import type { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sqliteOutboxStore } from "../../src/store/sqlite/outbox.ts";
import {
  ManifestMismatchError,
  type ManifestOutcome,
  ManifestWriter,
  manifestLine,
  scanTail,
} from "../../src/telemetry/manifest.ts";
import { commitOutcomes, openOutboxDb } from "../support/outbox-db.ts";

const APPENDER = join(import.meta.dir, "fixtures", "manifest-appender.ts");

function readLines(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  if (text !== "") expect(text.endsWith("\n")).toBe(true);
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Every seq from 1 to n exactly once, in increasing order. */
function expectExactlyOnce(path: string, n: number): void {
  const seqs = readLines(path).map((l) => l.seq as number);
  const dupes = seqs.filter((s, i) => seqs.indexOf(s) !== i);
  expect(dupes).toEqual([]);
  expect(seqs).toEqual(Array.from({ length: n }, (_, i) => i + 1));
}

describe("manifest line format", () => {
  const outcome: ManifestOutcome = {
    seq: 42,
    jobId: 7,
    artifactId: "doi:10.1038/nature12373",
    state: "done",
    reason: "ok",
    message: "fetched https://user:pw@x.example/a.pdf?token=abc&page=2",
    resolver: "unpaywall",
    tier: 2,
    url: "https://alice:hunter2@pdfs.example/a.pdf?api_key=SECRET&id=3",
    finalUrl: "https://cdn.example/a.pdf?X-Amz-Signature=deadbeef&email=me@example.org",
    sha256: "ab".repeat(32),
    bytes: 12345,
    contentType: "application/pdf",
    path: "pdf/ab/abab.pdf",
    etag: '"v1"',
    lastModified: "Wed, 21 Oct 2015 07:28:00 GMT",
    attempts: 2,
    firstAttemptAt: Date.UTC(2026, 0, 2, 3, 4, 5),
    finishedAt: Date.UTC(2026, 0, 2, 3, 4, 6),
    artifact: {
      id: "doi:10.1038/nature12373",
      doi: "10.1038/nature12373",
      title: "T",
      year: 2013,
      meta: { a: [1] },
    },
  };

  test("v2 has every documented key, ISO times, the work identifiers and meta untouched", () => {
    const line = manifestLine(outcome);
    expect(line.endsWith("\n")).toBe(true);
    expect(line.indexOf("\n")).toBe(line.length - 1);
    const o = JSON.parse(line);
    expect(Object.keys(o)).toEqual([
      "v",
      "seq",
      "artifact_id",
      "job_id",
      "state",
      "reason",
      "message",
      "resolver",
      "tier",
      "url",
      "final_url",
      "sha256",
      "bytes",
      "content_type",
      "path",
      "etag",
      "last_modified",
      "license",
      "license_url",
      "version",
      "host_type",
      "oa_status",
      "attempts",
      "first_attempt_at",
      "finished_at",
      "work",
      "meta",
    ]);
    expect(o.v).toBe(2);
    expect(o.seq).toBe(42);
    expect(o.first_attempt_at).toBe("2026-01-02T03:04:05.000Z");
    expect(o.work).toEqual({
      doi: "10.1038/nature12373",
      pmid: null,
      pmcid: null,
      arxiv: null,
      openalex: null,
      title: "T",
      year: 2013,
    });
    expect(o.meta).toEqual({ a: [1] });
  });

  test("credentials never reach the manifest", () => {
    const line = manifestLine(outcome);
    for (const secret of ["hunter2", "alice", "SECRET", "deadbeef", "me@example.org", "abc&", "user:pw"]) {
      expect(line).not.toContain(secret);
    }
    const o = JSON.parse(line);
    expect(o.url).toBe("https://pdfs.example/a.pdf?api_key=REDACTED&id=3");
    expect(o.message).toBe("fetched https://x.example/a.pdf?token=REDACTED&page=2");
  });
});

describe("tail scanning", () => {
  test("finds the last complete record and where a torn line starts", () => {
    const a = '{"v":1,"seq":1}\n{"v":1,"seq":2}\n{"v":1,"se';
    expect(scanTail(a, true)).toEqual({ complete: 32, lastSeq: 2 });
    expect(scanTail('{"v":1,"seq":9}\n', true)).toEqual({ complete: 16, lastSeq: 9 });
    expect(scanTail('{"v":1,"s', true)).toEqual({ complete: -1, lastSeq: null });
  });
  test("the first line of a mid-file window is not trusted", () => {
    expect(scanTail('"seq":5}\n{"v":1,"seq":6}\n', false).lastSeq).toBe(6);
    expect(scanTail('{"seq":5}\n', false).lastSeq).toBeNull();
  });
});

describe("ManifestWriter", () => {
  let dir: string;
  let db: Database;
  let path: string;
  let writer: ManifestWriter;
  let reconciles: { mark: number; fileSeq: number | null; tornBytes: number }[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "manifest-"));
    db = openOutboxDb(join(dir, "queue.db"));
    path = join(dir, "manifest.jsonl");
    reconciles = [];
    writer = new ManifestWriter({
      path,
      store: sqliteOutboxStore(db),
      batch: 4,
      onReconcile: (i) => reconciles.push(i),
    });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const mark = () => db.query<{ h: number }, []>("SELECT high_water AS h FROM outbox").get()?.h;

  test("appends committed outcomes once, in seq order, across batches, and advances the mark", async () => {
    expect(writer.flush()).toBe(0);
    await commitOutcomes(db, 10);
    expect(writer.flush()).toBe(10);
    expect(writer.flush()).toBe(0);
    await commitOutcomes(db, 3);
    expect(writer.flush()).toBe(3);
    expectExactlyOnce(path, 13);
    expect(mark()).toBe(13);
    expect(reconciles).toEqual([]);
    const line = readLines(path)[6];
    expect(line).toMatchObject({ v: 2, seq: 7, state: "error", reason: "http_500", work: { year: 2020 } });
    expect(String(readLines(path)[0]?.url)).toContain("api_key=REDACTED");
  });

  test("a file ahead of the mark (died after append, before the mark) is not appended twice", async () => {
    await commitOutcomes(db, 6);
    writer.flush();
    db.run("UPDATE outbox SET high_water = 2");
    await commitOutcomes(db, 2);
    expect(writer.flush()).toBe(2);
    expectExactlyOnce(path, 8);
    expect(mark()).toBe(8);
    expect(reconciles[0]).toEqual({ mark: 2, fileSeq: 6, tornBytes: 0 });
  });

  test("a torn last line is cut off and its outcome appended whole", async () => {
    await commitOutcomes(db, 5);
    writer.flush();
    const size = readFileSync(path).length;
    truncateSync(path, size - 17);
    db.run("UPDATE outbox SET high_water = 4");
    expect(writer.flush()).toBe(1);
    expectExactlyOnce(path, 5);
    expect(reconciles[0]?.tornBytes).toBeGreaterThan(0);
    expect(reconciles[0]?.fileSeq).toBe(4);
  });

  test("a file that is all one torn line starts over", async () => {
    await commitOutcomes(db, 1);
    appendFileSync(path, '{"v":1,"seq":1,"artif');
    expect(writer.flush()).toBe(1);
    expectExactlyOnce(path, 1);
  });

  test("a manifest moved away (rotation) continues after the mark instead of re-emitting", async () => {
    await commitOutcomes(db, 4);
    writer.flush();
    renameSync(path, `${path}.1`);
    await commitOutcomes(db, 2);
    expect(writer.flush()).toBe(2);
    expect(readLines(path).map((l) => l.seq)).toEqual([5, 6]);
  });

  test("a manifest from another database is refused instead of silently skipping outcomes", async () => {
    appendFileSync(path, '{"v":1,"seq":999}\n');
    await commitOutcomes(db, 2);
    expect(() => writer.flush()).toThrow(ManifestMismatchError);
    expect(() => writer.flush()).toThrow(/belongs to another database/);
    expect(readLines(path)).toHaveLength(1);
  });

  test("long lines (large meta) are found even when the last line exceeds the first tail window", async () => {
    await commitOutcomes(db, 1, { meta: { big: "x".repeat(40_000) } });
    writer.flush();
    db.run("UPDATE outbox SET high_water = 0");
    await commitOutcomes(db, 1);
    expect(writer.flush()).toBe(1);
    expectExactlyOnce(path, 2);
  });
});

describe("exactly once across processes", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "manifest-crash-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const spawnAppender = (target: number, maxWrite: number) =>
    Bun.spawn(
      [
        process.execPath,
        APPENDER,
        join(dir, "queue.db"),
        join(dir, "manifest.jsonl"),
        String(target),
        String(maxWrite),
      ],
      {
        stdout: "pipe",
        stderr: "pipe",
      },
    );

  test("kill -9 at random points during appends, restart: every outcome appears exactly once", async () => {
    const target = 1500;
    const kills = 14;
    openOutboxDb(join(dir, "queue.db")).close();
    const seen = { killed: 0, aheadOfMark: 0, torn: 0 };
    let finished = false;
    for (let round = 0; round < kills + 40 && !finished; round++) {
      // Tiny writes make each batch many syscalls, so kills land inside a line as well as between
      // the append and the mark update.
      const child = spawnAppender(target, 48);
      if (round < kills) {
        await Bun.sleep(10 + Math.random() * 70);
        child.kill("SIGKILL");
      }
      const code = await child.exited;
      const out = await new Response(child.stdout).text();
      for (const line of out.split("\n").filter(Boolean)) {
        const r = JSON.parse(line) as { mark: number; fileSeq: number | null; tornBytes: number };
        if (r.tornBytes > 0) seen.torn++;
        if ((r.fileSeq ?? 0) > r.mark) seen.aheadOfMark++;
      }
      if (child.signalCode === "SIGKILL") seen.killed++;
      else if (code === 0) finished = true;
      else throw new Error(`appender failed: ${await new Response(child.stderr).text()}`);
    }
    expect(finished).toBe(true);
    expect(seen.killed).toBeGreaterThan(kills / 2);
    console.log(`manifest crash test: ${JSON.stringify(seen)}`);
    expectExactlyOnce(join(dir, "manifest.jsonl"), target);
  }, 60_000);

  test("two processes appending to one state directory never duplicate", async () => {
    const target = 300;
    // Created up front: two processes switching a brand-new file to WAL at once can see SQLITE_BUSY.
    openOutboxDb(join(dir, "queue.db")).close();
    const a = spawnAppender(target, 1 << 20);
    const b = spawnAppender(target, 1 << 20);
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    // Both may commit a last batch past the target: what counts is every committed outcome, once.
    const db = openOutboxDb(join(dir, "queue.db"));
    const committed = db.query<{ n: number }, []>("SELECT count(*) AS n FROM outcomes").get()?.n ?? 0;
    db.close();
    expect(committed).toBeGreaterThanOrEqual(target);
    expectExactlyOnce(join(dir, "manifest.jsonl"), committed);
  }, 30_000);
});
