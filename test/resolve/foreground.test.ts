// `fetch` in the foreground shares the library's URL index with the runner: a URL this library
// stored before is asked for conditionally by the same work (a 304 ends `not_modified`), and another
// work citing it reuses the stored file without a request; entries are written as soon as the file
// is stored (there is no queue ack to wait for).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { ConfigSchema } from "../../src/config/schema.ts";
import { fetchWork, openPipeline } from "../../src/resolve/foreground.ts";
import { makePdf } from "../support/pdf.ts";
import { tempDir } from "../support/temp.ts";
import { bytesResponse, startWeb } from "../support/web.ts";

const web = await startWeb();
const dir = tempDir("foreground");
afterAll(async () => {
  await web.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("fetch and the library's URL index", () => {
  test("the same work again: a conditional request, 304 → not_modified; another work: reuse, no request", async () => {
    const body = makePdf("a paper fetched twice", { minBytes: 4096 });
    const etag = '"v1"';
    const host = await web.host();
    host.route("/paper.pdf", (req) =>
      req.headers.get("if-none-match") === etag
        ? new Response(null, { status: 304, headers: { etag } })
        : bytesResponse(body, { "content-type": "application/pdf", etag }),
    );
    const url = host.url("/paper.pdf");
    const config = v.parse(ConfigSchema, {
      state_dir: join(dir, "state"),
      out_dir: join(dir, "library"),
      network: { allow_private: ["127.0.0.0/8"] },
      politeness: { robots: false },
      resolvers: { tiers: [["direct"]] },
    });
    const work = { id: "work-a", pdf_urls: [url] };
    const p = openPipeline(config, { env: {} });
    try {
      const first = await fetchWork(p, work);
      expect(first).toMatchObject({ ok: true, reason: "ok", resolver: "direct" });
      const again = await fetchWork(p, work);
      expect(again).toMatchObject({
        ok: true,
        reason: "not_modified",
        sha256: first.sha256,
        path: first.path,
      });
      const other = await fetchWork(p, { id: "work-b", pdf_urls: [url] });
      expect(other).toMatchObject({ ok: true, reason: "duplicate_content", sha256: first.sha256 });
      expect(other.by_id_path && existsSync(other.by_id_path)).toBe(true);
      const asked = host.requests.filter((r) => r.path === "/paper.pdf");
      expect(asked.map((r) => r.headers.get("if-none-match"))).toEqual([null, etag]);
    } finally {
      p.close();
    }
    // a new process (the index lives in the state database) asks conditionally too
    const later = openPipeline(config, { env: {} });
    try {
      expect(await fetchWork(later, work)).toMatchObject({ ok: true, reason: "not_modified" });
    } finally {
      later.close();
    }
  });

  test("two pipelines on one state directory (two runners) read a host's robots.txt once between them", async () => {
    const host = await web.host();
    host.route("/robots.txt", () => new Response("User-agent: *\nDisallow: /private/\n"));
    host.pdf("/a.pdf").pdf("/b.pdf");
    const config = v.parse(ConfigSchema, {
      state_dir: join(dir, "state-robots"),
      out_dir: join(dir, "library-robots"),
      network: { allow_private: ["127.0.0.0/8"] },
      resolvers: { tiers: [["direct"]] }, // no archive fallback: nothing but the simulated host is asked
    });
    const one = openPipeline(config, { env: {} });
    const two = openPipeline(config, { env: {} });
    try {
      expect(await fetchWork(one, { id: "w1", pdf_urls: [host.url("/a.pdf")] })).toMatchObject({ ok: true });
      expect(await fetchWork(two, { id: "w2", pdf_urls: [host.url("/b.pdf")] })).toMatchObject({ ok: true });
      expect(await fetchWork(two, { id: "w3", pdf_urls: [host.url("/private/c.pdf")] })).toMatchObject({
        ok: false,
        reason: "robots_disallowed",
      });
      expect(host.requests.map((r) => r.path)).toEqual(["/robots.txt", "/a.pdf", "/b.pdf"]);
    } finally {
      one.close();
      two.close();
    }
  });
});
