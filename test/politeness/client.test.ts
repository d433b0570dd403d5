// The politeness gate behind the real HTTP client (src/net/fetch.ts) against the simulated web:
// what hosts answer reaches the gate through the port, and the gate's refusals come back as reasons.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as v from "valibot";
import { type ConfigInput, ConfigSchema } from "../../src/config/schema.ts";
import { createHttpClient } from "../../src/net/fetch.ts";
import { Politeness } from "../../src/politeness/politeness.ts";
import { type SimHost, type SimWeb, startWeb } from "../support/web.ts";
import { openPolitenessDb } from "./db.ts";

let web: SimWeb;
beforeAll(async () => {
  web = await startWeb();
});
afterAll(() => web.stop());

function client(input: ConfigInput = {}) {
  const config = v.parse(ConfigSchema, input);
  config.network.allow_private = ["127.0.0.0/8"];
  const politeness = new Politeness({ db: openPolitenessDb(), config, renewEveryMs: 0 });
  return { http: createHttpClient({ config, politeness, version: "test" }), politeness };
}

const key = (h: SimHost) => `${h.address}:${h.port}`;

describe("politeness behind the HTTP client", () => {
  test("a 429 with Retry-After cools the host down: the next request is refused without a packet", async () => {
    const host = await web.host();
    host.robots("User-agent: *\nAllow: /\n");
    host
      .pdf("/a.pdf")
      .fault("/a.pdf", { kind: "status", status: 429, headers: { "retry-after": "30" }, times: 1 });
    const { http, politeness } = client();
    // The retry would wait the announced 30 s, longer than max_wait_s (10 s): the request ends with
    // the limiter's refusal (the job is released until then) and nothing goes out inside the wait.
    const first = await http.request({ url: host.url("/a.pdf"), role: "artifact" });
    expect(first).toMatchObject({ ok: false, reason: "rate_limited", slowDowns: 1 });
    if (first.ok) throw new Error("unreachable");
    expect(first.status).toBeUndefined();
    expect(host.hits("/a.pdf")).toHaveLength(1);
    const hits = host.hits("/a.pdf").length;
    const before = Date.now();
    const second = await http.request({ url: host.url("/a.pdf"), role: "artifact", maxWaitMs: 1000 });
    expect(second).toMatchObject({ ok: false, reason: "rate_limited" });
    if (second.ok) throw new Error("unreachable");
    expect(second.retryAt ?? 0).toBeGreaterThanOrEqual(before + 29_000);
    expect(host.hits("/a.pdf").length).toBe(hits);
    expect(politeness.hostsSnapshot().find((h) => h.host === key(host))?.count429).toBe(1);
  });

  test("503 + Retry-After twice: the same request waits each announced second and gets the file; the breaker stays closed", async () => {
    const host = await web.host();
    host.robots("User-agent: *\nAllow: /\n");
    host
      .pdf("/busy.pdf")
      .fault("/busy.pdf", { kind: "status", status: 503, headers: { "retry-after": "1" }, times: 2 });
    const { http, politeness } = client({ politeness: { breaker_failures: 2 } });
    const r = await http.request({ url: host.url("/busy.pdf"), role: "artifact" });
    expect(r).toMatchObject({ ok: true, response: { status: 200, slowDowns: 2 } });
    if (r.ok) await new Response(r.response.body).arrayBuffer();
    const at = host.hits("/busy.pdf").map((h) => h.at);
    expect(at).toHaveLength(3);
    // No request inside an announced wait (a little slack for timer granularity).
    expect((at[1] as number) - (at[0] as number)).toBeGreaterThanOrEqual(990);
    expect((at[2] as number) - (at[1] as number)).toBeGreaterThanOrEqual(990);
    expect(politeness.hostsSnapshot().find((h) => h.host === key(host))?.breaker.state).toBe("closed");
  });

  test("consecutive 5xx open the breaker; 404s never do", async () => {
    const host = await web.host();
    host.robots("User-agent: *\nAllow: /\n");
    host.pdf("/x.pdf").fault("/x.pdf", { kind: "status", status: 502 });
    const { http } = client({
      politeness: { breaker_failures: 3, hosts: { [key(host)]: { rate: "100/s" } } },
    });
    for (let i = 0; i < 5; i++) {
      const r = await http.request({ url: host.url("/missing.pdf"), role: "artifact" });
      expect(r).toMatchObject({ ok: false, reason: "not_found" });
    }
    for (let i = 0; i < 3; i++) {
      expect(await http.request({ url: host.url("/x.pdf"), role: "artifact" })).toMatchObject({
        reason: "http_502",
      });
    }
    const sent = host.requests.length;
    expect(await http.request({ url: host.url("/x.pdf"), role: "artifact" })).toMatchObject({
      ok: false,
      reason: "breaker_open",
    });
    expect(host.requests.length).toBe(sent);
  });

  test("robots Crawl-delay spaces landing and artifact requests", async () => {
    const host = await web.host();
    host.robots("User-agent: *\nCrawl-delay: 0.3\nAllow: /\n");
    host.pdf("/a.pdf");
    host.html("/page", "<html><body>hello</body></html>");
    const { http } = client({ politeness: { hosts: { [key(host)]: { rate: "100/s" } } } });
    for (const [path, role] of [
      ["/page", "landing"],
      ["/a.pdf", "artifact"],
      ["/page", "landing"],
    ] as const) {
      const r = await http.request({ url: host.url(path), role });
      if (!r.ok) throw new Error(r.message);
      await new Response(r.response.body).arrayBuffer();
    }
    const at = host.requests.filter((r) => r.path !== "/robots.txt").map((r) => r.at);
    expect(at).toHaveLength(3);
    // reserved 300 ms apart; arrivals carry scheduling jitter (without the delay they come ~10 ms apart)
    for (let i = 1; i < at.length; i++) {
      expect((at[i] as number) - (at[i - 1] as number)).toBeGreaterThanOrEqual(250);
    }
  });
});
