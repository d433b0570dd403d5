// The HTTP client against the simulated scholarly web: role headers, every fault mapped to its
// reason without a crash or a hang, redirects re-gated, robots, retries, Retry-After and slot release.
// The transport refuses anything but loopback, so no packet can leave the machine.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { type Config, defaultConfig } from "../../src/config/schema.ts";
import { createHttpClient, type HttpClientDeps, type Transport, userAgent } from "../../src/net/fetch.ts";
import type { Lookup } from "../../src/net/gate.ts";
import { HttpFailure } from "../../src/net/outcome.ts";
import type { HttpResponse } from "../../src/net/types.ts";
import { makePdf } from "../support/pdf.ts";
import { MemoryPoliteness } from "../support/politeness.ts";
import { bytesResponse, startWeb } from "../support/web.ts";

const web = await startWeb();
afterAll(() => web.stop());

/** Every URL the client asked the transport for. */
const dialed: string[] = [];
const loopbackOnly: Transport = (url, init) => {
  const host = new URL(url).hostname;
  dialed.push(url);
  if (!/^127\.\d+\.\d+\.\d+$/.test(host)) throw new Error(`test transport: refusing to dial ${url}`);
  return fetch(url, init);
};

function testConfig(patch: (c: Config) => void = () => {}): Config {
  const c = defaultConfig();
  c.contact_email = "ops@example.org";
  c.network.allow_private = ["127.0.0.0/8"];
  c.network.connect_timeout_s = 0.4;
  c.network.idle_timeout_s = 0.3;
  c.network.total_timeout_s = 3;
  c.network.metadata_retries = 2;
  c.download.max_bytes = 200_000;
  patch(c);
  return c;
}

let politeness = new MemoryPoliteness();
afterEach(() => {
  // Slots are released on every path: body end, error, abort, refusal.
  expect(politeness.held()).toBe(0);
  politeness = new MemoryPoliteness();
});

function client(o: Partial<HttpClientDeps> & { lookup?: Lookup } = {}) {
  return createHttpClient({
    config: testConfig(),
    politeness,
    version: "9.9.9",
    lookup: web.lookup,
    transport: loopbackOnly,
    random: () => 0,
    ...o,
  });
}

/** Read a body to the end: its bytes, or the reason it failed with. */
async function drain(
  res: HttpResponse,
): Promise<{ bytes: Uint8Array } | { reason: string; message: string }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const parts: number[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: new Uint8Array(parts) };
      for (const b of value) parts.push(b);
    }
  } catch (e) {
    expect(e).toBeInstanceOf(HttpFailure);
    return { reason: (e as HttpFailure).reason, message: (e as Error).message };
  }
}

describe("requests and headers", () => {
  test("a PDF arrives whole with role headers and the polite User-Agent", async () => {
    const h = await web.host();
    const pdf = makePdf("whole");
    h.pdf("/a.pdf", pdf);
    const r = await client().request({ url: h.url("/a.pdf"), role: "artifact", resolver: "direct" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.response.status).toBe(200);
    expect(r.response.redirects).toEqual([h.url("/a.pdf")]);
    expect(await drain(r.response)).toEqual({ bytes: pdf });
    const sent = h.hits("/a.pdf")[0]?.headers;
    expect(sent?.get("accept")).toBe("application/pdf, */*;q=0.1");
    expect(sent?.get("user-agent")).toBe("docstokg/9.9.9 (+mailto:ops@example.org)");
    expect(politeness.acquires).toContainEqual(
      expect.objectContaining({ host: `${h.address}:${h.port}`, role: "artifact", resolver: "direct" }),
    );
  });

  test("metadata asks for JSON, landing for HTML; no mailto without a contact", async () => {
    const h = await web.host();
    h.route("/api", () => Response.json({ a: 1 }));
    h.landing("/land", { title: "T" });
    const c = client({ config: testConfig((c) => (c.contact_email = undefined)) });
    const m = await c.request({ url: h.url("/api"), role: "metadata" });
    const l = await c.request({ url: h.url("/land"), role: "landing" });
    if (m.ok) await drain(m.response);
    if (l.ok) await drain(l.response);
    expect(h.hits("/api")[0]?.headers.get("accept")).toBe("application/json");
    expect(h.hits("/land")[0]?.headers.get("accept")).toStartWith("text/html");
    expect(h.hits("/api")[0]?.headers.get("user-agent")).toBe("docstokg/9.9.9");
    expect(
      userAgent(
        testConfig((c) => (c.network.user_agent = "corpusbot/1")),
        "1",
      ),
    ).toBe("corpusbot/1 (+mailto:ops@example.org)");
  });

  test("files and pages are asked for as sent and decoded by the client, bounded; metadata by the runtime", async () => {
    const h = await web.host();
    const page = new TextEncoder().encode(
      `<html><head><title>T</title></head>${"<p>x</p>".repeat(5000)}</html>`,
    );
    const gz = { "content-type": "text/html", "content-encoding": "gzip" };
    h.route("/page", () => bytesResponse(new Uint8Array(gzipSync(page)), gz));
    h.route("/page-bomb", () => bytesResponse(new Uint8Array(gzipSync(new Uint8Array(50_000_000))), gz));
    h.route("/api", () => Response.json({ a: 1 }));
    const c = client();
    const l = await c.request({ url: h.url("/page"), role: "landing" });
    expect(l.ok && (await drain(l.response))).toEqual({ bytes: page });
    const b = await c.request({ url: h.url("/page-bomb"), role: "landing" });
    expect(b.ok && (await drain(b.response))).toMatchObject({ reason: "too_large" });
    const m = await c.request({ url: h.url("/api"), role: "metadata" });
    if (m.ok) await drain(m.response);
    expect(h.hits("/page")[0]?.headers.get("accept-encoding")).toBe("identity");
    expect(h.hits("/api")[0]?.headers.get("accept-encoding")).toContain("gzip");
  });

  test("a named host is dialed at the address the gate vetted, with its name in Host", async () => {
    const h = await web.host({ name: "journal.test" });
    h.pdf("/n.pdf");
    const r = await client().request({ url: h.namedUrl("/n.pdf"), role: "artifact" });
    expect(r.ok).toBe(true);
    if (r.ok) await drain(r.response);
    expect(h.hits("/n.pdf")[0]?.headers.get("host")).toBe(`journal.test:${h.port}`);
    expect(dialed).toContain(h.url("/n.pdf"));
    expect(politeness.acquires.at(-1)?.host).toBe(`journal.test:${h.port}`);
  });
});

describe("statuses map to reasons", () => {
  const table: [number, string][] = [
    [404, "not_found"],
    [410, "not_found"],
    [401, "forbidden"],
    [403, "forbidden"],
    [429, "rate_limited"],
    [500, "http_500"],
    [418, "http_418"],
  ];
  for (const [status, reason] of table) {
    test(`${status} → ${reason}, asked once for an artifact (no slow-down retries left)`, async () => {
      const h = await web.host();
      h.fault("/x.pdf", { kind: "status", status });
      const r = await client().request({ url: h.url("/x.pdf"), role: "artifact", slowDownRetries: 0 });
      expect(r).toMatchObject({ ok: false, reason, status });
      expect(h.hits("/x.pdf")).toHaveLength(1);
      expect(politeness.observations.at(-1)?.o.status).toBe(status);
    });
  }

  test("a captcha page behind 403 is forbidden; an interstitial labelled PDF arrives as HTML bytes", async () => {
    const h = await web.host();
    h.captcha("/c.pdf");
    h.interstitial("/i.pdf", "/real.pdf");
    const c = client();
    expect(await c.request({ url: h.url("/c.pdf"), role: "artifact" })).toMatchObject({
      reason: "forbidden",
    });
    const r = await c.request({ url: h.url("/i.pdf"), role: "artifact" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.response.headers.get("content-type")).toBe("application/pdf");
    const body = await drain(r.response);
    // The client does not judge by Content-Type; the download classifier sees the HTML bytes.
    expect("bytes" in body && new TextDecoder().decode(body.bytes)).toStartWith("<!DOCTYPE html>");
  });
});

describe("Retry-After and retries", () => {
  test("429 with Retry-After in seconds: retryAt set and the host told, capped", async () => {
    const h = await web.host();
    h.fault("/a", { kind: "status", status: 429, headers: { "retry-after": "120" } });
    h.fault("/b", { kind: "status", status: 429, headers: { "retry-after": "999999" } });
    const c = client();
    const t0 = Date.now();
    const a = await c.request({ url: h.url("/a"), role: "artifact" });
    expect(a).toMatchObject({ ok: false, reason: "rate_limited", status: 429 });
    if (!a.ok) expect(a.retryAt).toBeGreaterThanOrEqual(t0 + 119_000);
    expect(politeness.observations.at(-1)?.o).toMatchObject({ status: 429, retryAfterMs: 120_000 });
    const b = await c.request({ url: h.url("/b"), role: "artifact" });
    expect(politeness.observations.at(-1)?.o.retryAfterMs).toBe(900_000);
    if (!b.ok) expect(b.retryAt).toBeLessThanOrEqual(Date.now() + 900_000);
  });

  test("503 with Retry-After as an HTTP date", async () => {
    const h = await web.host();
    const when = new Date(Date.now() + 90_000).toUTCString();
    h.fault("/d", { kind: "status", status: 503, headers: { "retry-after": when } });
    const r = await client().request({ url: h.url("/d"), role: "landing" });
    expect(r).toMatchObject({ ok: false, reason: "http_503" });
    const ms = politeness.observations.at(-1)?.o.retryAfterMs as number;
    expect(ms).toBeGreaterThan(88_000);
    expect(ms).toBeLessThanOrEqual(90_000);
  });

  test("metadata retries a 503 burst and succeeds; an artifact asks a 429/503 again up to download.retries times", async () => {
    const h = await web.host();
    h.route("/m", () => Response.json({ ok: true }));
    h.fault("/m", { kind: "status", status: 503, times: 2 });
    const r = await client().request({ url: h.url("/m"), role: "metadata" });
    expect(r.ok).toBe(true);
    if (r.ok) await drain(r.response);
    expect(h.hits("/m")).toHaveLength(3);
    h.pdf("/p.pdf").fault("/p.pdf", { kind: "status", status: 503, times: 2 });
    const p = await client().request({ url: h.url("/p.pdf"), role: "artifact" });
    expect(p).toMatchObject({ ok: true, response: { status: 200, slowDowns: 2 } });
    if (p.ok) await drain(p.response);
    expect(h.hits("/p.pdf")).toHaveLength(3);
    // A host that keeps answering 503: 1 + download.retries (3) requests, then its answer with the count.
    h.fault("/q.pdf", { kind: "status", status: 503 });
    expect(await client().request({ url: h.url("/q.pdf"), role: "artifact" })).toMatchObject({
      ok: false,
      reason: "http_503",
      status: 503,
      slowDowns: 4,
    });
    expect(h.hits("/q.pdf")).toHaveLength(4);
    // Other failures are answers, not back-pressure: asked once.
    h.fault("/r.pdf", { kind: "status", status: 502 });
    expect(await client().request({ url: h.url("/r.pdf"), role: "landing" })).toMatchObject({
      reason: "http_502",
    });
    expect(h.hits("/r.pdf")).toHaveLength(1);
  });

  test("metadata retries stop after network.metadata_retries and never retry a 404", async () => {
    const h = await web.host();
    h.fault("/gone", { kind: "status", status: 502 });
    h.fault("/unknown", { kind: "status", status: 404 });
    const c = client();
    expect(await c.request({ url: h.url("/gone"), role: "metadata" })).toMatchObject({ reason: "http_502" });
    expect(h.hits("/gone")).toHaveLength(3);
    expect(await c.request({ url: h.url("/unknown"), role: "metadata" })).toMatchObject({
      reason: "not_found",
    });
    expect(h.hits("/unknown")).toHaveLength(1);
  });

  test("metadata retries a timeout; the first hung request does not keep its slot", async () => {
    const h = await web.host();
    h.route("/slow", () => Response.json({ fine: true }));
    h.fault("/slow", { kind: "hang", times: 1 });
    const r = await client().request({ url: h.url("/slow"), role: "metadata" });
    expect(r.ok).toBe(true);
    if (r.ok) expect(await new Response(r.response.body).json()).toEqual({ fine: true });
    expect(h.hits("/slow")).toHaveLength(2);
    expect(politeness.observations.map((o) => o.o.failure ?? o.o.status)).toEqual(["timeout", 200]);
  });

  test("a metadata retry waits the Retry-After; one longer than the wait budget is not waited", async () => {
    const h = await web.host();
    h.route("/r", () => Response.json({}));
    h.fault("/r", { kind: "status", status: 429, headers: { "retry-after": "1" }, times: 1 });
    const c = client();
    const t0 = performance.now();
    const r = await c.request({ url: h.url("/r"), role: "metadata", maxWaitMs: 2000 });
    expect(r.ok).toBe(true);
    if (r.ok) await drain(r.response);
    const hits = h.hits("/r");
    expect(hits).toHaveLength(2);
    expect((hits[1]?.at as number) - (hits[0]?.at as number)).toBeGreaterThanOrEqual(990);
    expect(performance.now() - t0).toBeLessThan(2000);

    h.fault("/s", { kind: "status", status: 429, headers: { "retry-after": "60" } });
    const s = await c.request({ url: h.url("/s"), role: "metadata", maxWaitMs: 2000 });
    expect(s).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(h.hits("/s")).toHaveLength(1);
  });
});

describe("network faults end with a reason, never a hang", () => {
  test("no response headers → timeout", async () => {
    const h = await web.host();
    h.fault("/hang", { kind: "hang" });
    const t0 = performance.now();
    const r = await client().request({ url: h.url("/hang"), role: "artifact" });
    expect(r).toMatchObject({ ok: false, reason: "timeout" });
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(politeness.observations.at(-1)?.o.failure).toBe("timeout");
  });

  test("a stall mid-body → timeout while the caller reads", async () => {
    const h = await web.host();
    h.pdf("/stall.pdf", makePdf("stall", { minBytes: 20_000 }));
    h.fault("/stall.pdf", { kind: "stall", afterBytes: 1000 });
    const r = await client().request({ url: h.url("/stall.pdf"), role: "artifact" });
    expect(r.ok).toBe(true);
    if (r.ok) expect(await drain(r.response)).toMatchObject({ reason: "timeout" });
  });

  test("a slow drip within the idle timeout completes; one past the total timeout is cut", async () => {
    const h = await web.host();
    const pdf = makePdf("drip", { minBytes: 2000 });
    h.pdf("/drip.pdf", pdf).fault("/drip.pdf", { kind: "drip", chunkBytes: 500, intervalMs: 50 });
    const ok = await client().request({ url: h.url("/drip.pdf"), role: "artifact" });
    expect(ok.ok && (await drain(ok.response))).toEqual({ bytes: pdf });
    h.huge("/slow.pdf", 1_000_000).fault("/slow.pdf", { kind: "drip", chunkBytes: 100, intervalMs: 100 });
    const c = client({ config: testConfig((c) => (c.network.total_timeout_s = 0.6)) });
    const t0 = performance.now();
    const slow = await c.request({ url: h.url("/slow.pdf"), role: "artifact" });
    expect(slow.ok && (await drain(slow.response))).toMatchObject({ reason: "timeout" });
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  test("a body shorter than its Content-Length → truncated", async () => {
    const h = await web.host();
    h.pdf("/short.pdf", makePdf("short", { minBytes: 5000 }));
    h.fault("/short.pdf", { kind: "truncate", afterBytes: 700 });
    const r = await client().request({ url: h.url("/short.pdf"), role: "artifact" });
    expect(r.ok && (await drain(r.response))).toMatchObject({ reason: "truncated" });
  });

  test("a reset mid-body: truncated against a Content-Length, conn_error when chunked", async () => {
    const h = await web.host();
    h.huge("/big.pdf", 100_000).fault("/big.pdf", { kind: "reset", afterBytes: 3000 });
    const chunked = new TextEncoder().encode("x".repeat(10_000));
    h.route("/chunked", () => new Response(new Blob([chunked]).stream()));
    h.fault("/chunked", { kind: "reset", afterBytes: 3000 });
    const c = client();
    const a = await c.request({ url: h.url("/big.pdf"), role: "artifact" });
    expect(a.ok && (await drain(a.response))).toMatchObject({ reason: "truncated" });
    const b = await c.request({ url: h.url("/chunked"), role: "landing" });
    expect(b.ok && (await drain(b.response))).toMatchObject({ reason: "conn_error" });
  });

  test("a closed port → conn_error", async () => {
    const r = await client().request({ url: "http://127.0.0.1:9/x.pdf", role: "artifact" });
    expect(r).toMatchObject({ ok: false, reason: "conn_error" });
    expect(politeness.observations.at(-1)?.o.failure).toBe("conn_error");
  });

  test("a huge body and a gzip bomb → too_large, without reading them whole", async () => {
    const h = await web.host();
    h.huge("/huge.pdf", 50_000_000);
    h.gzipBomb("/bomb.pdf", 20_000_000);
    const c = client();
    const a = await c.request({ url: h.url("/huge.pdf"), role: "artifact" });
    expect(a.ok && (await drain(a.response))).toMatchObject({ reason: "too_large" });
    const b = await c.request({ url: h.url("/bomb.pdf"), role: "artifact" });
    expect(b.ok && (await drain(b.response))).toMatchObject({ reason: "too_large" });
  });

  test("a certificate nobody vouches for → tls_error", async () => {
    const dir = `${import.meta.dir}/../support/tls`;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: Bun.file(`${dir}/cert.pem`), key: Bun.file(`${dir}/key.pem`) },
      fetch: () => new Response("secret"),
    });
    try {
      const r = await client().request({ url: `https://127.0.0.1:${server.port}/x.pdf`, role: "artifact" });
      expect(r).toMatchObject({ ok: false, reason: "tls_error" });
      expect(politeness.observations.at(-1)?.o.failure).toBe("tls_error");
    } finally {
      server.stop(true);
    }
  });

  test("the caller cancels while waiting for headers and while reading", async () => {
    const h = await web.host();
    h.fault("/hang", { kind: "hang" });
    h.huge("/body.pdf", 150_000).fault("/body.pdf", { kind: "drip", chunkBytes: 1000, intervalMs: 20 });
    const c = client();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    expect(await c.request({ url: h.url("/hang"), role: "artifact", signal: ac.signal })).toMatchObject({
      reason: "cancelled",
    });
    const ac2 = new AbortController();
    const r = await c.request({ url: h.url("/body.pdf"), role: "artifact", signal: ac2.signal });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    setTimeout(() => ac2.abort(), 60);
    expect(await drain(r.response)).toMatchObject({ reason: "cancelled" });
  });

  test("a body cancelled by the caller releases the slot", async () => {
    const h = await web.host();
    h.huge("/c.pdf", 150_000);
    const r = await client().request({ url: h.url("/c.pdf"), role: "artifact" });
    expect(politeness.held()).toBe(1);
    if (r.ok) await r.response.body?.cancel();
    expect(politeness.held()).toBe(0);
  });
});

describe("https to a vetted address", () => {
  test("the certificate is checked against the host name while the vetted address is dialed", async () => {
    const dir = `${import.meta.dir}/../support/tls`;
    const cert = await Bun.file(`${dir}/cert.pem`).text();
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert, key: Bun.file(`${dir}/key.pem`) },
      fetch: (req) => new Response(req.headers.get("host")),
    });
    // Trust the test certificate (issued for untrusted.test) and record what was dialed.
    const trusting: Transport = (url, init) =>
      loopbackOnly(url, { ...init, tls: { ...init.tls, ca: cert } } as never);
    const lookup: Lookup = async () => ["127.0.0.1"];
    try {
      const c = client({ transport: trusting, lookup });
      const r = await c.request({ url: `https://untrusted.test:${server.port}/x`, role: "landing" });
      expect(r.ok).toBe(true);
      if (r.ok)
        expect(new TextDecoder().decode(((await drain(r.response)) as { bytes: Uint8Array }).bytes)).toBe(
          `untrusted.test:${server.port}`,
        );
      expect(dialed.at(-1)).toBe(`https://127.0.0.1:${server.port}/x`);
      const wrong = await c.request({ url: `https://other.test:${server.port}/x`, role: "landing" });
      expect(wrong).toMatchObject({ ok: false, reason: "tls_error" });
    } finally {
      server.stop(true);
    }
  });
});

describe("redirects", () => {
  test("a chain across hosts is followed, recorded and paced on every hop", async () => {
    const a = await web.host();
    const b = await web.host({ name: "cdn.test" });
    const pdf = makePdf("chain");
    a.redirect("/doi/1", "/landing/1", 301);
    a.redirect("/landing/1", b.namedUrl("/files/1.pdf"), 302);
    b.pdf("/files/1.pdf", pdf);
    const r = await client().request({ url: a.url("/doi/1"), role: "artifact" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.response.url).toBe(b.namedUrl("/files/1.pdf"));
    expect(r.response.redirects).toEqual([a.url("/doi/1"), a.url("/landing/1"), b.namedUrl("/files/1.pdf")]);
    expect(await drain(r.response)).toEqual({ bytes: pdf });
    const hosts = politeness.acquires.filter((p) => p.role === "artifact").map((p) => p.host);
    expect(hosts).toEqual([`${a.address}:${a.port}`, `${a.address}:${a.port}`, `cdn.test:${b.port}`]);
  });

  test("a loop is detected; too many hops stop at network.max_redirects", async () => {
    const h = await web.host();
    h.redirect("/a", "/b").redirect("/b", "/a");
    for (let i = 0; i < 6; i++) h.redirect(`/r${i}`, `/r${i + 1}`);
    h.pdf("/r6");
    const c = client({ config: testConfig((c) => (c.network.max_redirects = 3)) });
    const loop = await c.request({ url: h.url("/a"), role: "artifact" });
    expect(loop).toMatchObject({ ok: false, reason: "http_302" });
    if (!loop.ok) expect(loop.message).toContain("redirect loop");
    expect(h.hits("/a")).toHaveLength(1);
    const long = await c.request({ url: h.url("/r0"), role: "artifact" });
    expect(long).toMatchObject({ ok: false, reason: "http_302" });
    if (!long.ok) expect(long.message).toContain("more than 3 redirects");
    expect(h.hits("/r4")).toHaveLength(0);
  });

  test("redirects into private space are refused without dialing", async () => {
    const h = await web.host();
    h.redirect("/ip", "http://10.0.0.5/file.pdf");
    h.redirect("/meta", "http://169.254.169.254/latest/meta-data/");
    h.redirect("/mapped", "http://[::ffff:192.168.1.1]/x");
    h.redirect("/named", "http://intranet.test/x.pdf");
    h.redirect("/creds", "http://user:pw@example.org/x.pdf");
    h.redirect("/ftp", "ftp://example.org/x.pdf");
    const lookup: Lookup = async (name) => (name === "intranet.test" ? ["172.16.4.4"] : web.lookup(name));
    const c = client({ lookup });
    const before = dialed.length;
    for (const path of ["/ip", "/meta", "/mapped", "/named", "/creds", "/ftp"]) {
      const r = await c.request({ url: h.url(path), role: "artifact" });
      expect(r).toMatchObject({ ok: false, reason: "url_refused" });
    }
    expect(dialed.slice(before).every((u) => new URL(u).hostname === h.address)).toBe(true);
  });

  test("without allow_private even loopback is refused before any packet", async () => {
    const h = await web.host();
    h.pdf("/x.pdf");
    const transport: Transport = () => {
      throw new Error("must not dial a refused URL");
    };
    const c = client({ config: testConfig((c) => (c.network.allow_private = [])), transport });
    expect(await c.request({ url: h.url("/x.pdf"), role: "artifact" })).toMatchObject({
      reason: "url_refused",
    });
    expect(h.requests).toHaveLength(0);
    expect(politeness.acquires).toHaveLength(0);
  });
});

describe("robots.txt", () => {
  test("disallowed paths are never requested; metadata is not subject to robots", async () => {
    const h = await web.host();
    h.robots("User-agent: *\nDisallow: /private/\n");
    h.pdf("/private/a.pdf").pdf("/public/a.pdf");
    h.route("/private/api", () => Response.json({}));
    const c = client();
    const no = await c.request({ url: h.url("/private/a.pdf"), role: "artifact" });
    expect(no).toMatchObject({ ok: false, reason: "robots_disallowed" });
    const yes = await c.request({ url: h.url("/public/a.pdf"), role: "landing" });
    if (yes.ok) await drain(yes.response);
    const meta = await c.request({ url: h.url("/private/api"), role: "metadata" });
    if (meta.ok) await drain(meta.response);
    expect(yes.ok && meta.ok).toBe(true);
    expect(h.hits("/private/a.pdf")).toHaveLength(0);
    expect(h.hits("/robots.txt")).toHaveLength(1); // cached per origin
    expect(h.hits("/robots.txt")[0]?.headers.get("user-agent")).toStartWith("docstokg/");
  });

  test("a group for docstokg wins over *, and Crawl-delay reaches the politeness gate capped", async () => {
    const h = await web.host();
    h.robots("User-agent: *\nDisallow: /\n\nUser-agent: DocsToKG\nAllow: /\nCrawl-delay: 90\n");
    h.pdf("/a.pdf");
    const r = await client().request({ url: h.url("/a.pdf"), role: "artifact" });
    if (r.ok) await drain(r.response);
    expect(r.ok).toBe(true);
    expect(politeness.minIntervals.get(`${h.address}:${h.port}`)).toBe(30_000);
  });

  test("robots 404 allows all; 503 disallows for now with a transient reason", async () => {
    const ok = await web.host();
    ok.pdf("/a.pdf");
    const down = await web.host();
    down.robots("oops", 503).pdf("/a.pdf");
    const c = client();
    const a = await c.request({ url: ok.url("/a.pdf"), role: "artifact" });
    if (a.ok) await drain(a.response);
    expect(a.ok).toBe(true);
    const b = await c.request({ url: down.url("/a.pdf"), role: "artifact" });
    expect(b).toMatchObject({ ok: false, reason: "http_503" });
    if (!b.ok) expect(b.retryAt).toBeGreaterThan(Date.now());
    expect(down.hits("/a.pdf")).toHaveLength(0);
  });

  test("every redirect hop is checked against its own origin's robots.txt", async () => {
    const a = await web.host();
    const b = await web.host();
    b.robots("User-agent: *\nDisallow: /files/\n").pdf("/files/x.pdf");
    a.redirect("/go", b.url("/files/x.pdf"));
    const r = await client().request({ url: a.url("/go"), role: "artifact" });
    expect(r).toMatchObject({ ok: false, reason: "robots_disallowed", url: b.url("/files/x.pdf") });
    expect(b.hits("/files/x.pdf")).toHaveLength(0);
  });

  test("robots can be switched off", async () => {
    const h = await web.host();
    h.robots("User-agent: *\nDisallow: /\n").pdf("/a.pdf");
    const c = client({ config: testConfig((c) => (c.politeness.robots = false)) });
    const r = await c.request({ url: h.url("/a.pdf"), role: "artifact" });
    if (r.ok) await drain(r.response);
    expect(r.ok).toBe(true);
    expect(h.hits("/robots.txt")).toHaveLength(0);
  });
});

describe("politeness port", () => {
  test("a refusal is answered without a request; its retryAt is passed on", async () => {
    const h = await web.host();
    h.pdf("/a.pdf");
    politeness.refuse = () => ({ ok: false, reason: "breaker_open", retryAt: 12345 });
    const r = await client().request({ url: h.url("/a.pdf"), role: "metadata" });
    expect(r).toMatchObject({ ok: false, reason: "breaker_open", retryAt: 12345 });
    expect(h.requests).toHaveLength(0);
  });

  test("maxWaitMs reaches the gate: the request's own or politeness.max_wait_s", async () => {
    const h = await web.host();
    h.route("/m", () => Response.json({}));
    const c = client();
    for (const maxWaitMs of [undefined, 1234]) {
      const r = await c.request({ url: h.url(`/m?x=${maxWaitMs}`), role: "metadata", maxWaitMs });
      if (r.ok) await drain(r.response);
    }
    expect(politeness.acquires.map((a) => a.maxWaitMs)).toEqual([10_000, 1234]);
  });

  test("robots.txt waits as long as politeness.max_wait_s, whatever the page's request says", async () => {
    const h = await web.host();
    h.robots("User-agent: *\nAllow: /\n");
    h.landing("/page", { title: "T" });
    const c = client({ config: testConfig((c) => (c.politeness.max_wait_s = 7)) });
    const r = await c.request({ url: h.url("/page"), role: "landing", maxWaitMs: 1234 });
    if (r.ok) await drain(r.response);
    expect(r.ok).toBe(true);
    expect(h.hits("/robots.txt")).toHaveLength(1);
    expect(politeness.acquires.map((a) => [a.role, a.maxWaitMs])).toEqual([
      ["landing", 7000],
      ["landing", 1234],
    ]);
  });

  test("a host limit of 1 holds the second request until the first body ends", async () => {
    politeness = new MemoryPoliteness(1);
    const h = await web.host();
    h.huge("/a.pdf", 20_000);
    const c = client();
    const first = await c.request({ url: h.url("/a.pdf"), role: "artifact" });
    const second = c.request({ url: h.url("/a.pdf?2"), role: "artifact" });
    await Bun.sleep(50);
    expect(h.hits("/a.pdf")).toHaveLength(1);
    if (first.ok) await drain(first.response);
    const s = await second;
    if (s.ok) await drain(s.response);
    expect(h.hits("/a.pdf")).toHaveLength(2);
    expect(h.maxConcurrency()).toBe(1);
  });
});
