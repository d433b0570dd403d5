// The library's URL index (SPEC 6 steps 1 and 3) through the real queue, step and commit over the
// simulated web: another artifact's stored URL is reused with no request to the file host and its
// own by-id link; a removed or altered stored file is downloaded again; a re-fetch of the same
// artifact asks conditionally and a 304 ends `not_modified`; a kill -9 between download and ack
// leaves no index entry, one after the ack leaves an entry whose file is there.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { byIdPath } from "../../src/download/finalize.ts";
import { decideReuse } from "../../src/download/reuse.ts";
import type { StoredUrl } from "../../src/store/stored-urls.ts";
import { makePdf } from "../support/pdf.ts";
import { tempDir } from "../support/temp.ts";
import { bytesResponse, type SimHost, startWeb } from "../support/web.ts";
import { openRunner, type Runner } from "./reuse-harness.ts";

const web = await startWeb();
const dirs: string[] = [];
afterAll(async () => {
  await web.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT";

/** A host serving one PDF with an ETag and Last-Modified, honouring If-None-Match. */
async function fileHost(
  body: Uint8Array<ArrayBuffer>,
): Promise<{ host: SimHost; url: string; etag: string }> {
  const host = await web.host();
  const etag = `"${new Bun.CryptoHasher("sha256").update(body).digest("hex").slice(0, 16)}"`;
  host.route("/paper.pdf", (req) => {
    if (req.headers.get("if-none-match") === etag)
      return new Response(null, { status: 304, headers: { etag, "last-modified": LAST_MODIFIED } });
    return bytesResponse(body, { "content-type": "application/pdf", etag, "last-modified": LAST_MODIFIED });
  });
  return { host, url: host.url("/paper.pdf"), etag };
}

const fileRequests = (h: SimHost) => h.requests.filter((r) => r.path === "/paper.pdf");

function newRunner(): Runner {
  const d = tempDir("reuse");
  dirs.push(d);
  return openRunner(d);
}

interface OutcomeView {
  reason: string;
  sha256: string | null;
  path: string | null;
  bytes: number | null;
}
function lastOutcome(r: Runner, artifactId: string): OutcomeView | null {
  return r.db
    .query<OutcomeView, [string]>(
      "SELECT reason, sha256, path, bytes FROM outcomes WHERE artifact_id = ?1 ORDER BY seq DESC LIMIT 1",
    )
    .get(artifactId);
}
const indexRows = (r: Runner) =>
  r.db
    .query<{ url: string; artifact_id: string; etag: string | null }, []>("SELECT * FROM stored_urls")
    .all();

describe("URL index: reuse across artifacts", () => {
  test("a second artifact with an already stored URL gets the file with no request and its own by-id link", async () => {
    const body = makePdf("shared paper", { minBytes: 4096 });
    const { host, url } = await fileHost(body);
    const r = newRunner();
    try {
      const a = await r.run("art-a", url);
      expect(a.committed).toBe(true);
      expect(a.step?.reason).toBe("ok");
      expect(fileRequests(host)).toHaveLength(1);
      const before = host.requests.length;

      // The same URL spelled differently (default port, fragment) is the same canonical URL.
      const b = await r.run("art-b", `${url.replace("/paper.pdf", "/./paper.pdf")}#page=2`);
      expect(b.committed).toBe(true);
      expect(b.step?.reason).toBe("duplicate_content");
      expect(host.requests.length).toBe(before); // not even robots.txt
      const oa = lastOutcome(r, "art-a");
      const ob = lastOutcome(r, "art-b");
      expect(ob).toEqual({ ...(oa as OutcomeView), reason: "duplicate_content" });
      const byIdA = byIdOf(r, "art-a");
      const byIdB = byIdOf(r, "art-b");
      expect(byIdB).not.toBe(byIdA);
      expect(statSync(byIdB).ino).toBe(statSync(join(r.outDir, ob?.path as string)).ino);
      expect(new Uint8Array(readFileSync(byIdB))).toEqual(body);
      // The entry still belongs to the artifact that downloaded it.
      expect(indexRows(r).map((x) => x.artifact_id)).toEqual(["art-a"]);
      // The reuse is an attempt that sent nothing: no status, no bytes.
      const attempt = r.db
        .query<{ http_status: number | null; bytes: number | null; reason: string }, [string]>(
          `SELECT a.http_status, a.bytes, a.reason FROM attempts a JOIN jobs j ON j.id = a.job_id
            WHERE j.artifact_id = ?1`,
        )
        .all("art-b");
      expect(attempt).toEqual([{ http_status: null, bytes: 0, reason: "duplicate_content" }]);
    } finally {
      r.close();
    }
  });

  test("a removed or altered stored file is downloaded again and the entry rewritten", async () => {
    const body = makePdf("fragile paper", { minBytes: 4096 });
    const { host, url } = await fileHost(body);
    const r = newRunner();
    try {
      await r.run("art-a", url);
      const stored = join(r.outDir, lastOutcome(r, "art-a")?.path as string);
      rmSync(stored);
      rmSync(byIdOf(r, "art-a")); // the by-id link would keep the inode alive otherwise
      const b = await r.run("art-b", url);
      expect(b.step?.reason).toBe("ok");
      expect(fileRequests(host)).toHaveLength(2);
      expect(new Uint8Array(readFileSync(stored))).toEqual(body);
      expect(indexRows(r).map((x) => x.artifact_id)).toEqual(["art-b"]);

      truncateSync(stored, 100); // altered: no longer its recorded size
      const c = await r.run("art-c", url);
      expect(c.step?.reason).toBe("ok");
      expect(fileRequests(host)).toHaveLength(3);
      expect(statSync(stored).size).toBe(body.length);
      expect(indexRows(r).map((x) => x.artifact_id)).toEqual(["art-c"]);
    } finally {
      r.close();
    }
  });
});

describe("URL index: conditional re-fetch of the same artifact", () => {
  test("a requeued artifact sends If-None-Match/If-Modified-Since; the 304 ends not_modified with no new bytes", async () => {
    const body = makePdf("stable paper", { minBytes: 4096 });
    const { host, url, etag } = await fileHost(body);
    const r = newRunner();
    try {
      await r.run("art-a", url);
      const first = lastOutcome(r, "art-a");
      expect(first?.reason).toBe("ok");
      expect(await r.queue.requeue(["art-a"])).toMatchObject({ requeued: [expect.any(Number)] });
      const again = await r.run("art-a", url);
      expect(again.step?.reason).toBe("not_modified");
      expect(again.step?.bytes).toBe(0);
      const reqs = fileRequests(host);
      expect(reqs).toHaveLength(2);
      expect(reqs[0]?.headers.get("if-none-match")).toBeNull();
      expect(reqs[1]?.headers.get("if-none-match")).toBe(etag);
      expect(reqs[1]?.headers.get("if-modified-since")).toBe(LAST_MODIFIED);
      expect(lastOutcome(r, "art-a")).toEqual({ ...(first as OutcomeView), reason: "not_modified" });
      expect(indexRows(r)).toMatchObject([{ artifact_id: "art-a", etag }]);
    } finally {
      r.close();
    }
  });

  test("a changed file on re-fetch is downloaded in full (200 to the conditional request)", async () => {
    let body = makePdf("first edition", { minBytes: 4096 });
    const host = await web.host();
    host.route("/paper.pdf", (req) => {
      const etag = `"${body.length}-${body[body.length - 8]}"`;
      if (req.headers.get("if-none-match") === etag)
        return new Response(null, { status: 304, headers: { etag } });
      return bytesResponse(body, { "content-type": "application/pdf", etag });
    });
    const url = host.url("/paper.pdf");
    const r = newRunner();
    try {
      await r.run("art-a", url);
      body = makePdf("second edition, longer", { minBytes: 8192 });
      await r.queue.requeue(["art-a"]);
      const again = await r.run("art-a", url);
      expect(again.step?.reason).toBe("ok");
      expect(fileRequests(host)[1]?.headers.get("if-none-match")).not.toBeNull();
      expect(lastOutcome(r, "art-a")?.bytes).toBe(body.length);
      expect(new Uint8Array(readFileSync(byIdOf(r, "art-a")))).toEqual(body);
    } finally {
      r.close();
    }
  });
});

describe("URL index: written only with the ack", () => {
  test("an ack with a stale lease token writes no entry", async () => {
    const r = newRunner();
    try {
      const job = await r.lease("art-z", "http://127.0.0.9:9/z.pdf");
      const stored = {
        url: "http://127.0.0.9:9/z.pdf",
        sha256: "ab".repeat(32),
        path: "pdf/ab/z.pdf",
        bytes: 9,
        kind: "pdf" as const,
      };
      expect(await r.queue.ack(job.id, "not-the-token", { state: "done", reason: "ok", stored })).toBe(false);
      expect(indexRows(r)).toEqual([]);
      expect(await r.queue.ack(job.id, job.token, { state: "done", reason: "ok", stored })).toBe(true);
      expect(indexRows(r)).toMatchObject([{ url: stored.url, artifact_id: "art-z" }]);
    } finally {
      r.close();
    }
  });

  async function killChild(dir: string, url: string, mode: string): Promise<string> {
    const child = Bun.spawn([process.execPath, join(import.meta.dir, "reuse-child.ts"), dir, url, mode], {
      stdout: "pipe",
      stderr: "inherit",
    });
    const reader = child.stdout.getReader();
    let out = "";
    while (!out.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    child.kill(9);
    await child.exited;
    return out.trim();
  }

  test("kill -9 after the download but before the ack: no entry; a later job downloads, never trusts it", async () => {
    const body = makePdf("crash paper", { minBytes: 4096 });
    const { host, url } = await fileHost(body);
    const dir = tempDir("reuse-crash");
    dirs.push(dir);
    expect(await killChild(dir, url, "before-ack")).toBe("downloaded ok");
    const r = openRunner(dir);
    try {
      expect(indexRows(r)).toEqual([]);
      const b = await r.run("art-b", url);
      expect(b.step?.reason).toBe("duplicate_content"); // identical bytes found in the store, verified
      expect(fileRequests(host)).toHaveLength(2);
      expect(indexRows(r).map((x) => x.artifact_id)).toEqual(["art-b"]);
    } finally {
      r.close();
    }
  });

  test("kill -9 after the ack: the entry names a file that is there with its size, and is reused", async () => {
    const body = makePdf("committed paper", { minBytes: 4096 });
    const { host, url } = await fileHost(body);
    const dir = tempDir("reuse-crash");
    dirs.push(dir);
    expect(await killChild(dir, url, "after-ack")).toBe("acked ack true");
    const r = openRunner(dir);
    try {
      const rows = r.db
        .query<{ path: string; bytes: number }, []>("SELECT path, bytes FROM stored_urls")
        .all();
      expect(rows).toHaveLength(1);
      expect(statSync(join(r.outDir, rows[0]?.path as string)).size).toBe(rows[0]?.bytes as number);
      const b = await r.run("art-b", url);
      expect(b.step?.reason).toBe("duplicate_content");
      expect(fileRequests(host)).toHaveLength(1);
    } finally {
      r.close();
    }
  });
});

describe("decideReuse", () => {
  const entry: StoredUrl = {
    url: "http://h/x.pdf",
    sha256: "ab".repeat(32),
    path: "pdf/ab/x.pdf",
    bytes: 2000,
    kind: "pdf",
    etag: '"e"',
    lastModified: null,
    artifactId: "a",
    storedAt: 1,
  };
  test("no entry: download; wrong or missing size: download and drop the entry", () => {
    expect(decideReuse(undefined, "a", "/out", undefined)).toEqual({ action: "download" });
    expect(decideReuse(entry, "b", "/out", undefined)).toEqual({ action: "download", stale: entry });
    expect(decideReuse(entry, "a", "/out", 1999)).toEqual({ action: "download", stale: entry });
  });
  test("another artifact's file: reuse; the same artifact's: conditional, or plain without validators", () => {
    expect(decideReuse(entry, "b", "/out", 2000)).toEqual({
      action: "reuse",
      entry,
      path: "/out/pdf/ab/x.pdf",
    });
    expect(decideReuse(entry, "a", "/out", 2000)).toEqual({
      action: "conditional",
      prior: {
        path: "/out/pdf/ab/x.pdf",
        bytes: 2000,
        sha256: entry.sha256,
        etag: '"e"',
        lastModified: undefined,
      },
    });
    expect(decideReuse({ ...entry, etag: null }, "a", "/out", 2000)).toEqual({ action: "download" });
  });
});

function byIdOf(r: Runner, artifactId: string): string {
  return byIdPath(r.outDir, artifactId, "pdf");
}
