// `fetch` runs the runner's own job step without a lease: it shares the library's URL index with the
// runner (a URL this library stored before is asked for conditionally by the same work, a 304 ends
// `not_modified`, and another work citing it reuses the stored file without a request), writes the
// index entry as soon as the file is stored, and writes no job, attempt, outcome or manifest record.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { foreground } from "../../src/app/foreground.ts";
import { openServices } from "../../src/app/services.ts";
import { fetchOutcome } from "../../src/cli/fetch-format.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import { databasePath, openDatabaseReadOnly } from "../../src/store/db.ts";
import { manifestPath } from "../../src/telemetry/manifest.ts";
import { makePdf } from "../support/pdf.ts";
import { tempDir } from "../support/temp.ts";
import { bytesResponse, startWeb } from "../support/web.ts";

const web = await startWeb();
const dir = tempDir("foreground");
afterAll(async () => {
  await web.stop();
  rmSync(dir, { recursive: true, force: true });
});

function configIn(name: string, extra: Record<string, unknown> = {}) {
  return v.parse(ConfigSchema, {
    state_dir: join(dir, `state-${name}`),
    out_dir: join(dir, `library-${name}`),
    network: { allow_private: ["127.0.0.0/8"] },
    resolvers: { tiers: [["direct"]] }, // no archive fallback: nothing but the simulated host is asked
    ...extra,
  });
}

/** Fetch works through the composition root as `docstokg fetch` does; the printable outcomes. */
async function fetchAll(config: ReturnType<typeof configIn>, works: { id: string; pdf_urls: string[] }[]) {
  const services = await openServices(config);
  try {
    const f = foreground(services);
    const out = [];
    for (const w of works) out.push(fetchOutcome(w.id, await f.fetch(w), config.out_dir));
    return out;
  } finally {
    await services.close();
  }
}

function countRows(stateDir: string): Record<string, number> {
  const db = openDatabaseReadOnly(databasePath(stateDir));
  try {
    const n = (table: string) => (db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      jobs: n("jobs"),
      attempts: n("attempts"),
      outcomes: n("outcomes"),
      // The schema seeds the manifest's high-water row; an append would advance it.
      manifestHighWater: (
        db.query("SELECT high_water AS n FROM outbox WHERE name = 'manifest'").get() as { n: number }
      ).n,
      stored_urls: n("stored_urls"),
    };
  } finally {
    db.close();
  }
}

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
    const config = configIn("index", { politeness: { robots: false } });
    const work = { id: "work-a", pdf_urls: [url] };
    const [first, again, other] = await fetchAll(config, [work, work, { id: "work-b", pdf_urls: [url] }]);
    expect(first).toMatchObject({ ok: true, reason: "ok", resolver: "direct", tier: 1 });
    expect(again).toMatchObject({
      ok: true,
      reason: "not_modified",
      sha256: first?.sha256,
      path: first?.path,
    });
    expect(other).toMatchObject({ ok: true, reason: "duplicate_content", sha256: first?.sha256 });
    expect(typeof other?.by_id_path).toBe("string");
    expect(existsSync(other?.by_id_path as string)).toBe(true);
    // The attempts are the runner's: the download, then the 304, then none (reused, nothing asked).
    expect(first?.attempts.map((a) => [a.role, a.http_status, a.reason])).toEqual([["artifact", 200, "ok"]]);
    expect(again?.attempts.map((a) => [a.role, a.http_status, a.reason])).toEqual([
      ["artifact", 304, "not_modified"],
    ]);
    expect(other?.attempts.map((a) => [a.reason, a.http_status])).toEqual([["duplicate_content", undefined]]);
    const asked = host.requests.filter((r) => r.path === "/paper.pdf");
    expect(asked.map((r) => r.headers.get("if-none-match"))).toEqual([null, etag]);

    // a new process (the index lives in the state database) asks conditionally too
    const [later] = await fetchAll(config, [work]);
    expect(later).toMatchObject({ ok: true, reason: "not_modified" });
  });

  test("no job, attempt, outcome or manifest record is written; only the URL index learns of the file", async () => {
    const host = await web.host();
    host.pdf("/kept.pdf").landing("/page", { title: "not a file" });
    const config = configIn("rows", { politeness: { robots: false } });
    const [got, missed] = await fetchAll(config, [
      { id: "w-kept", pdf_urls: [host.url("/kept.pdf")] },
      { id: "w-missed", pdf_urls: [host.url("/page")] },
    ]);
    expect([got?.ok, missed?.ok, missed?.reason]).toEqual([true, false, "html_only"]);
    expect(missed?.attempts.length).toBe(1);
    expect(countRows(config.state_dir)).toEqual({
      jobs: 0,
      attempts: 0,
      outcomes: 0,
      manifestHighWater: 0,
      stored_urls: 1,
    });
    expect(existsSync(manifestPath(config.state_dir))).toBe(false);
  });

  test("two processes on one state directory read a host's robots.txt once between them", async () => {
    const host = await web.host();
    host.route("/robots.txt", () => new Response("User-agent: *\nDisallow: /private/\n"));
    host.pdf("/a.pdf").pdf("/b.pdf");
    const config = configIn("robots");
    const one = await openServices(config);
    const two = await openServices(config);
    try {
      const [f1, f2] = [foreground(one), foreground(two)];
      expect(await f1.fetch({ id: "w1", pdf_urls: [host.url("/a.pdf")] })).toMatchObject({ ok: true });
      expect(await f2.fetch({ id: "w2", pdf_urls: [host.url("/b.pdf")] })).toMatchObject({ ok: true });
      expect(await f2.fetch({ id: "w3", pdf_urls: [host.url("/private/c.pdf")] })).toMatchObject({
        ok: false,
        reason: "robots_disallowed",
      });
      expect(host.requests.map((r) => r.path)).toEqual(["/robots.txt", "/a.pdf", "/b.pdf"]);
    } finally {
      await one.close();
      await two.close();
    }
  });
});
