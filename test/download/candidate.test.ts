import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { type CandidateRequest, downloadCandidate } from "../../src/download/candidate.ts";
import { type DiskSyncer, poolSyncer } from "../../src/download/syncer.ts";
import { claimTempSlot, TEMP_DIR, urlKey } from "../../src/download/temp.ts";
import { makePdf } from "../support/pdf.ts";
import { MemoryPoliteness } from "../support/politeness.ts";
import { type SimHost, type SimWeb, startWeb } from "../support/web.ts";
import { makeDeps, makeLibrary, sha256, storedFiles, tempFiles } from "./harness.ts";
import { rangedFile } from "./ranged.ts";

let web: SimWeb;
let host: SimHost;
let out: string;
let politeness: MemoryPoliteness;

beforeAll(async () => {
  web = await startWeb();
  host = await web.host({ name: "files.test" });
});
afterAll(() => web.stop());
beforeEach(() => {
  out = makeLibrary();
  politeness = new MemoryPoliteness();
});
afterEach(() => {
  fs.rmSync(out, { recursive: true, force: true });
  // Host slots are given back on every path: success, failure, abort.
  expect(politeness.held()).toBe(0);
});

const pdfA = makePdf("Paper A", { minBytes: 300_000 });
const req = (path: string, extra: Partial<CandidateRequest> = {}): CandidateRequest => ({
  url: host.url(path),
  artifactId: `doi:10.1000/${path.slice(1)}`,
  ...extra,
});

describe("a PDF candidate", () => {
  test("is stored content-addressed with its SHA-256, linked by id, and no temp file remains", async () => {
    host.pdf("/ok.pdf", pdfA, { etag: '"v1"' });
    const r = await downloadCandidate(makeDeps(out, {}, politeness), req("/ok.pdf"));
    if (!r.ok) throw new Error(r.message);
    expect(r.reason).toBe("ok");
    expect(r.file).toMatchObject({ sha256: sha256(pdfA), bytes: pdfA.length, kind: "pdf", etag: '"v1"' });
    expect(r.file.path).toEndWith(
      `/pdf/${sha256(pdfA).slice(0, 2)}/${sha256(pdfA).slice(2, 4)}/${sha256(pdfA)}.pdf`,
    );
    expect(new Uint8Array(fs.readFileSync(r.file.byIdPath))).toEqual(pdfA);
    // A file request says what it takes (the artifact role's Accept), so a null here is a failure.
    expect(host.hits("/ok.pdf")[0]?.headers.get("accept")).toContain("application/pdf");
    expect(storedFiles(out)).toEqual([r.file.path]);
    expect(tempFiles(out)).toEqual([]);
  });

  test("after redirects the final URL is recorded next to the requested one", async () => {
    host.pdf("/moved.pdf", pdfA).redirect("/old.pdf", "/moved.pdf", 301);
    const r = await downloadCandidate(makeDeps(out, {}, politeness), req("/old.pdf"));
    expect(r).toMatchObject({
      ok: true,
      file: { url: host.url("/old.pdf"), finalUrl: host.url("/moved.pdf") },
    });
  });

  test("JATS XML is stored under xml/ when accept_xml is on, refused otherwise", async () => {
    const jats = new TextEncoder().encode(
      '<?xml version="1.0"?>\n<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.2//EN" "JATS-archivearticle1.dtd">\n<article><front/></article>\n',
    );
    host.route("/a.xml", () => new Response(jats, { headers: { "content-type": "application/xml" } }));
    const kept = await downloadCandidate(makeDeps(out, { acceptXml: true }, politeness), req("/a.xml"));
    expect(kept).toMatchObject({ ok: true, file: { kind: "xml", contentType: "application/xml" } });
    expect(kept.ok && kept.file.path).toEndWith(
      `/xml/${sha256(jats).slice(0, 2)}/${sha256(jats).slice(2, 4)}/${sha256(jats)}.xml`,
    );
    const refused = await downloadCandidate(makeDeps(out, {}, politeness), req("/a.xml"));
    expect(refused).toMatchObject({ ok: false, reason: "not_pdf" });
  });

  test("two concurrent downloads of identical bytes leave one stored copy", async () => {
    const bytes = makePdf("Same paper", { minBytes: 400_000 });
    host.pdf("/same-1.pdf", bytes);
    host.pdf("/same-2.pdf", bytes);
    host.fault("/same-1.pdf", { kind: "drip", chunkBytes: 64 * 1024, intervalMs: 5, times: 1 });
    host.fault("/same-2.pdf", { kind: "drip", chunkBytes: 64 * 1024, intervalMs: 5, times: 1 });
    const deps = makeDeps(out, {}, politeness);
    const rs = await Promise.all([
      downloadCandidate(deps, req("/same-1.pdf")),
      downloadCandidate(deps, req("/same-2.pdf")),
    ]);
    expect(rs.map((r) => r.reason).sort()).toEqual(["duplicate_content", "ok"]);
    expect(storedFiles(out)).toHaveLength(1);
    expect(fs.readdirSync(`${out}/by-id`)).toHaveLength(2);
    expect(tempFiles(out)).toEqual([]);
  });

  test("the same URL in two jobs at once writes two temp files, never one shared", async () => {
    const bytes = makePdf("Shared URL", { minBytes: 300_000 });
    host.pdf("/shared.pdf", bytes);
    host.fault("/shared.pdf", { kind: "drip", chunkBytes: 64 * 1024, intervalMs: 5, times: 2 });
    const deps = makeDeps(out, {}, politeness);
    const rs = await Promise.all([
      downloadCandidate(deps, req("/shared.pdf", { artifactId: "a" })),
      downloadCandidate(deps, req("/shared.pdf", { artifactId: "b" })),
    ]);
    for (const r of rs) expect(r.ok && r.file.sha256).toBe(sha256(bytes));
    expect(storedFiles(out)).toHaveLength(1);
    expect(tempFiles(out)).toEqual([]);
  });

  test("the host slot is given back once the body has arrived: another transfer runs during the flushes", async () => {
    // One slot for the host; the first download's content flush is held until the second is done.
    politeness = new MemoryPoliteness(1);
    const pdfB = makePdf("Paper B", { minBytes: 300_000 });
    host.pdf("/first.pdf", pdfA).pdf("/second.pdf", pdfB);
    let letFlush!: () => void;
    const flushGate = new Promise<void>((resolve) => {
      letFlush = resolve;
    });
    let flushStarted!: (slotsHeld: number) => void;
    const firstFlush = new Promise<number>((resolve) => {
      flushStarted = resolve;
    });
    let flushes = 0;
    const syncer: DiskSyncer = {
      ...poolSyncer,
      async fdatasync(fd) {
        if (flushes++ === 0) {
          flushStarted(politeness.held());
          await flushGate;
        }
        return poolSyncer.fdatasync(fd);
      },
    };
    const deps = { ...makeDeps(out, {}, politeness), syncer };
    const first = downloadCandidate(deps, req("/first.pdf"));
    try {
      expect(await firstFlush).toBe(0);
      const second = await downloadCandidate(deps, req("/second.pdf"));
      expect(second.ok && second.file.sha256).toBe(sha256(pdfB));
    } finally {
      letFlush();
    }
    const r = await first;
    expect(r.ok && r.file.sha256).toBe(sha256(pdfA));
    expect([host.hits("/first.pdf").length, host.hits("/second.pdf").length]).toEqual([1, 1]);
  });
});

describe("faults end with the right reason, no temp file and nothing in the library", () => {
  const big = makePdf("Big", { minBytes: 200_000 });
  const cases: [string, () => void, Parameters<typeof makeDeps>[1], string][] = [
    [
      "truncation",
      () => host.pdf("/f.pdf", big).fault("/f.pdf", { kind: "truncate", afterBytes: 50_000 }),
      {},
      "truncated",
    ],
    [
      "reset",
      () => host.pdf("/f.pdf", big).fault("/f.pdf", { kind: "reset", afterBytes: 50_000 }),
      {},
      "truncated",
    ],
    [
      "slow drip past the total timeout",
      () => host.pdf("/f.pdf", big).fault("/f.pdf", { kind: "drip", chunkBytes: 1024, intervalMs: 20 }),
      { totalTimeoutMs: 300 },
      "timeout",
    ],
    [
      "stall past the idle timeout",
      () => host.pdf("/f.pdf", big).fault("/f.pdf", { kind: "stall", afterBytes: 10_000 }),
      { idleTimeoutMs: 200 },
      "timeout",
    ],
    [
      "HTML interstitial labelled as PDF",
      () => host.interstitial("/f.pdf", "/next").fault("/f.pdf", undefined),
      {},
      "html_only",
    ],
    ["captcha page with status 200", () => host.captcha("/f.pdf", 200), {}, "blocked"],
    // A challenge behind a 403 never shows its body: the status decides.
    ["captcha page with status 403", () => host.captcha("/f.pdf", 403), {}, "forbidden"],
    [
      "too large (Content-Length)",
      () => host.huge("/f.pdf", 20 * 1024 * 1024),
      { maxBytes: 1024 * 1024 },
      "too_large",
    ],
    [
      "too large (chunked, counted)",
      () =>
        host.route("/f.pdf", () => {
          let n = 0;
          return new Response(
            new ReadableStream({
              pull(c) {
                if (n++ > 40) return c.close();
                c.enqueue(
                  n === 1
                    ? new TextEncoder().encode("%PDF-1.4\n".padEnd(64 * 1024))
                    : new Uint8Array(64 * 1024),
                );
              },
            }),
          );
        }),
      { maxBytes: 1024 * 1024 },
      "too_large",
    ],
    [
      "gzip bomb",
      () => host.gzipBomb("/f.pdf", 64 * 1024 * 1024, "%PDF-1.4\n"),
      { maxBytes: 4 * 1024 * 1024 },
      "too_large",
    ],
    // Zeros are neither a PDF nor markup: the first KiB decides, the rest is never read.
    ["gzip bomb of zeros", () => host.gzipBomb("/f.pdf", 64 * 1024 * 1024), {}, "not_pdf"],
    ["404", () => host.route("/f.pdf", () => new Response("no", { status: 404 })), {}, "not_found"],
    ["not a PDF (JSON)", () => host.route("/f.pdf", () => Response.json({ error: "x" })), {}, "not_pdf"],
  ];
  for (const [name, arrange, opts, reason] of cases) {
    test(name, async () => {
      host.fault("/f.pdf", undefined);
      arrange();
      const r = await downloadCandidate(makeDeps(out, opts, politeness), req("/f.pdf"));
      host.fault("/f.pdf", undefined);
      expect(r.reason).toBe(reason as never);
      expect(r.ok).toBe(false);
      expect(storedFiles(out)).toEqual([]);
      expect(tempFiles(out)).toEqual([]);
    });
  }

  test("an HTML landing page comes back with its text for link extraction", async () => {
    host.landing("/landing", { title: "A paper", pdfUrl: "/paper.pdf" });
    const r = await downloadCandidate(makeDeps(out, {}, politeness), req("/landing"));
    if (r.ok) throw new Error("expected a failure");
    expect(r.reason).toBe("html_only");
    expect(r.landing?.html).toContain('name="citation_pdf_url" content="/paper.pdf"');
    expect(r.landing?.url).toBe(host.url("/landing"));
  });

  test("a caller abort mid-body ends with the abort's reason and removes the temp file", async () => {
    const { promise: sending, resolve: sent } = Promise.withResolvers<void>();
    host.route("/slow.pdf", () => {
      let n = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (n++ > 0) await Bun.sleep(20);
          c.enqueue(big.subarray(0, 4096));
          if (n === 3) sent();
        },
      });
      return new Response(body, { headers: { "content-length": String(10 * big.length) } });
    });
    const ctl = new AbortController();
    const pending = downloadCandidate(
      makeDeps(out, {}, politeness),
      req("/slow.pdf", { signal: ctl.signal }),
    );
    await sending;
    ctl.abort("lease_lost");
    const r = await pending;
    expect(r.reason).toBe("lease_lost");
    expect(tempFiles(out)).toEqual([]);
    expect(storedFiles(out)).toEqual([]);
  });
});

test("a full disk is an error of this machine, not a reason against the URL: it propagates", async () => {
  host.pdf("/disk.pdf", makePdf("Disk full", { minBytes: 100_000 }));
  fs.mkdirSync(join(out, TEMP_DIR), { recursive: true });
  // The slot's partial file points at /dev/full: every write fails with ENOSPC.
  fs.symlinkSync("/dev/full", join(out, TEMP_DIR, `${urlKey(host.url("/disk.pdf"))}.part`));
  const attempt = downloadCandidate(makeDeps(out, {}, politeness), req("/disk.pdf"));
  await expect(attempt).rejects.toMatchObject({ code: "ENOSPC" });
  expect(tempFiles(out)).toEqual([]);
  expect(storedFiles(out)).toEqual([]);
});

describe("conditional requests", () => {
  const v1 = makePdf("Versioned v1", { minBytes: 50_000 });
  test("a 304 confirms the stored copy without downloading it again", async () => {
    host.route(
      "/cond.pdf",
      rangedFile({ bytes: v1, etag: '"e1"', lastModified: "Mon, 01 Jan 2024 00:00:00 GMT" }),
    );
    const first = await downloadCandidate(makeDeps(out, {}, politeness), req("/cond.pdf"));
    if (!first.ok) throw new Error(first.message);
    const prior = {
      path: first.file.path,
      bytes: first.file.bytes,
      sha256: first.file.sha256,
      etag: first.file.etag,
      lastModified: first.file.lastModified,
    };
    const second = await downloadCandidate(
      makeDeps(out, {}, politeness),
      req("/cond.pdf", { prior, verifyPrior: true }),
    );
    expect(second).toMatchObject({
      ok: true,
      reason: "not_modified",
      status: 304,
      file: { sha256: sha256(v1), path: first.file.path },
    });
    const sent = host.hits("/cond.pdf").at(-1)?.headers;
    expect(sent?.get("if-none-match")).toBe('"e1"');
    expect(sent?.get("if-modified-since")).toBe("Mon, 01 Jan 2024 00:00:00 GMT");
    expect(storedFiles(out)).toHaveLength(1);
  });

  test("a 304 for a stored copy that vanished or changed leads to a full download", async () => {
    host.route("/cond2.pdf", rangedFile({ bytes: v1, etag: '"e2"' }));
    const first = await downloadCandidate(makeDeps(out, {}, politeness), req("/cond2.pdf"));
    if (!first.ok) throw new Error(first.message);
    const prior = { path: first.file.path, bytes: first.file.bytes, sha256: first.file.sha256, etag: '"e2"' };
    // Same size, different bytes: only a re-hash notices.
    fs.rmSync(first.file.path);
    fs.writeFileSync(first.file.path, new Uint8Array(v1.length));
    const before = host.hits("/cond2.pdf").length;
    const r = await downloadCandidate(
      makeDeps(out, {}, politeness),
      req("/cond2.pdf", { prior, verifyPrior: true }),
    );
    expect(r).toMatchObject({ ok: true, file: { sha256: sha256(v1) } });
    expect(host.hits("/cond2.pdf").length - before).toBe(2);
    expect(host.hits("/cond2.pdf").at(-1)?.headers.get("if-none-match")).toBeNull();
    expect(new Uint8Array(fs.readFileSync(first.file.path))).toEqual(v1);
  });
});

describe("resuming an interrupted attempt", () => {
  const full = makePdf("Resumable", { minBytes: 200_000 });
  /** Leaves what a download killed after `n` bytes leaves: the partial and its sidecar naming a dead owner. */
  async function leaveOrphan(
    url: string,
    bytes: Uint8Array,
    info: { etag?: string; lastModified?: string; total?: number },
  ) {
    const slot = await claimTempSlot(out, url);
    fs.writeFileSync(slot.part, bytes);
    fs.writeFileSync(
      slot.sidecar as string,
      JSON.stringify({ pid: 999_999_999, host: hostname(), url, ...info }),
    );
  }

  test("continues with Range + If-Range when validators match, re-hashing the prefix", async () => {
    host.route("/res.pdf", rangedFile({ bytes: full, etag: '"r1"' }));
    await leaveOrphan(host.url("/res.pdf"), full.subarray(0, 120_000), { etag: '"r1"', total: full.length });
    const r = await downloadCandidate(makeDeps(out, {}, politeness), req("/res.pdf"));
    expect(r).toMatchObject({
      ok: true,
      reason: "ok",
      status: 206,
      resumedFrom: 120_000,
      file: { sha256: sha256(full), bytes: full.length },
    });
    const sent = host.hits("/res.pdf").at(-1)?.headers;
    expect(sent?.get("range")).toBe("bytes=120000-");
    expect(sent?.get("if-range")).toBe('"r1"');
    expect(tempFiles(out)).toEqual([]);
  });

  test("restarts cleanly when the file changed (server answers 200)", async () => {
    host.route("/changed.pdf", rangedFile({ bytes: full, etag: '"new"' }));
    const stale = makePdf("Old version", { minBytes: 200_000 });
    await leaveOrphan(host.url("/changed.pdf"), stale.subarray(0, 100_000), { etag: '"old"' });
    const r = await downloadCandidate(makeDeps(out, {}, politeness), req("/changed.pdf"));
    expect(r).toMatchObject({ ok: true, status: 200, resumedFrom: 0, file: { sha256: sha256(full) } });
  });

  test("restarts when the server ignores ranges", async () => {
    host.route("/noranges.pdf", rangedFile({ bytes: full, etag: '"n1"', ranges: false }));
    await leaveOrphan(host.url("/noranges.pdf"), full.subarray(0, 90_000), { etag: '"n1"' });
    const r = await downloadCandidate(makeDeps(out, {}, politeness), req("/noranges.pdf"));
    expect(r).toMatchObject({ ok: true, status: 200, resumedFrom: 0, file: { sha256: sha256(full) } });
  });

  test("a partial longer than the file (416) is dropped and the file fetched whole", async () => {
    const small = makePdf("Shrunk", { minBytes: 20_000 });
    host.route("/shrunk.pdf", rangedFile({ bytes: small, lastModified: "Tue, 02 Jan 2024 00:00:00 GMT" }));
    await leaveOrphan(host.url("/shrunk.pdf"), full.subarray(0, 150_000), {
      lastModified: "Tue, 02 Jan 2024 00:00:00 GMT",
    });
    const r = await downloadCandidate(makeDeps(out, {}, politeness), req("/shrunk.pdf"));
    expect(r).toMatchObject({ ok: true, resumedFrom: 0, file: { sha256: sha256(small) } });
    expect(host.hits("/shrunk.pdf").map((h) => h.headers.get("range"))).toEqual(["bytes=150000-", null]);
  });

  test("a weak ETag alone is never used for If-Range", async () => {
    host.route("/weak.pdf", rangedFile({ bytes: full, etag: 'W/"w1"' }));
    await leaveOrphan(host.url("/weak.pdf"), full.subarray(0, 90_000), { etag: 'W/"w1"' });
    const r = await downloadCandidate(makeDeps(out, {}, politeness), req("/weak.pdf"));
    expect(r).toMatchObject({ ok: true, resumedFrom: 0, file: { sha256: sha256(full) } });
    expect(host.hits("/weak.pdf").at(-1)?.headers.get("range")).toBeNull();
  });
});
