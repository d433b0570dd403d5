import { describe, expect, test } from "bun:test";
import {
  escapeHelp,
  escapeLabelValue,
  formatValue,
  OVERFLOW_LABEL,
  Registry,
} from "../../src/telemetry/metrics.ts";
import { createProductMetrics, HostLabels, statusClass } from "../../src/telemetry/product-metrics.ts";
import { promtoolCheck, warnPromtoolMissing } from "../support/promtool.ts";
import { statusFixture } from "../support/status-fixture.ts";

const sampleStats = () => ({
  counts: { queued: 7, in_progress: 2, done: 40, skipped: 1, error: 3 },
  paused: true,
});

describe("exposition primitives", () => {
  test("values use Go float syntax for the specials", async () => {
    expect(formatValue(1.5)).toBe("1.5");
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe("+Inf");
    expect(formatValue(Number.NEGATIVE_INFINITY)).toBe("-Inf");
    expect(formatValue(Number.NaN)).toBe("NaN");
  });
  test("label values escape backslash, quote and newline; HELP escapes backslash and newline", async () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeHelp('a\\b"c\nd')).toBe('a\\\\b"c\\nd');
  });
  test("invalid metric and label names are refused at definition", async () => {
    const r = new Registry();
    expect(() => r.counter({ name: "bad-name", help: "x" })).toThrow(/invalid metric name/);
    expect(() => r.counter({ name: "ok_total", help: "x", labelNames: ["__reserved"] })).toThrow(/label/);
    expect(() => r.histogram({ name: "h", help: "x", labelNames: ["le"], buckets: [1] })).toThrow(/le/);
    expect(() => r.histogram({ name: "h2", help: "x", buckets: [2, 1] })).toThrow(/increasing/);
  });
  test("names that would collide in the exposition are refused", async () => {
    const r = new Registry();
    r.histogram({ name: "x_seconds", help: "x", buckets: [1] });
    expect(() => r.counter({ name: "x_seconds_count", help: "x" })).toThrow(/clashes/);
    expect(() => r.gauge({ name: "x_seconds", help: "x" })).toThrow(/clashes/);
  });
  test("counters refuse to go down", async () => {
    const c = new Registry().counter({ name: "c_total", help: "x" });
    expect(() => c.inc(undefined, -1)).toThrow();
  });
});

describe("rendering", () => {
  test("a counter with labels renders HELP, TYPE and escaped, sorted samples", async () => {
    const r = new Registry();
    const c = r.counter({ name: "t_total", help: "Things\nseen.", labelNames: ["kind"] });
    c.inc({ kind: 'b"q' }, 2);
    c.inc({ kind: "a" });
    expect(await r.render()).toBe(
      [
        "# HELP t_total Things\\nseen.",
        "# TYPE t_total counter",
        't_total{kind="a"} 1',
        't_total{kind="b\\"q"} 2',
        "",
      ].join("\n"),
    );
  });

  test("a histogram has cumulative buckets, +Inf equal to count, sum and count", async () => {
    const r = new Registry();
    const h = r.histogram({ name: "d_seconds", help: "d", buckets: [0.1, 1, 10] });
    for (const v of [0.05, 0.1, 0.5, 3, 100]) h.observe(undefined, v);
    const text = await r.render();
    expect(text).toContain('d_seconds_bucket{le="0.1"} 2\n');
    expect(text).toContain('d_seconds_bucket{le="1"} 3\n');
    expect(text).toContain('d_seconds_bucket{le="10"} 4\n');
    expect(text).toContain('d_seconds_bucket{le="+Inf"} 5\n');
    expect(text).toContain("d_seconds_sum 103.65\n");
    expect(text).toContain("d_seconds_count 5\n");
  });

  test("label sets past the series cap fold into `other` instead of growing", async () => {
    const r = new Registry();
    const c = r.counter({ name: "h_total", help: "x", labelNames: ["host"], maxSeries: 3 });
    for (let i = 0; i < 100; i++) c.inc({ host: `h${i}.example` });
    const lines = (await r.render()).split("\n").filter((l) => l.startsWith("h_total{"));
    expect(lines).toHaveLength(4);
    expect(c.get({ host: OVERFLOW_LABEL })).toBe(97);
  });

  test("a failing collector is reported and does not break the scrape", async () => {
    const errors: unknown[] = [];
    const r = new Registry((e) => errors.push(e));
    r.gauge({ name: "g", help: "x" }).set(undefined, 4);
    r.onCollect(() => {
      throw new Error("database is locked");
    });
    expect(await r.render()).toContain("\ng 4\n");
    expect(errors).toHaveLength(1);
  });
});

describe("product metrics", () => {
  test("status classes", async () => {
    expect(statusClass(200)).toBe("2xx");
    expect(statusClass(304)).toBe("3xx");
    expect(statusClass(429)).toBe("4xx");
    expect(statusClass(503)).toBe("5xx");
    expect(statusClass(undefined)).toBe("error");
    expect(statusClass(0)).toBe("error");
  });

  test("host labels: configured hosts always, a bounded number of others, then `other`", async () => {
    const hl = new HostLabels(["arxiv.org"], 2);
    expect(hl.label("a.example")).toBe("a.example");
    expect(hl.label("b.example")).toBe("b.example");
    expect(hl.label("c.example")).toBe(OVERFLOW_LABEL);
    expect(hl.label("arxiv.org")).toBe("arxiv.org");
    expect(hl.label("a.example")).toBe("a.example");
  });

  test("job counts, paused flag and breaker states are read from their sources at scrape", async () => {
    const fx = await statusFixture();
    const m = createProductMetrics({
      stats: () => fx.queue.stats(),
      hosts: () => fx.politeness.hostsSnapshot(),
    });
    let text = await m.registry.render();
    expect(text).toContain('docstokg_jobs{state="done"} 10\n');
    expect(text).toContain('docstokg_jobs{state="queued"} 5\n');
    expect(text).toContain('docstokg_jobs{state="error"} 4\n');
    expect(text).toContain("docstokg_queue_paused 0\n");
    expect(text).toContain('docstokg_hosts_by_breaker_state{state="open"} 1\n');
    expect(text).toContain('docstokg_hosts_by_breaker_state{state="closed"} 1\n');
    expect(text).toContain('docstokg_host_breaker_open{host="slow.example"} 1\n');
    expect(text).toContain('docstokg_host_breaker_open{host="arxiv.org"} 0\n');
    await fx.queue.pause();
    await fx.queue.retryFailed();
    text = await m.registry.render();
    expect(text).toContain('docstokg_jobs{state="error"} 0\n');
    expect(text).toContain('docstokg_jobs{state="queued"} 9\n');
    expect(text).toContain("docstokg_queue_paused 1\n");
  });

  test("requests record role, status class and rate wait in seconds", async () => {
    const m = createProductMetrics();
    m.recordRequest("artifact", 200, 1500);
    m.recordRequest("artifact", 429, 0);
    m.recordRequest("metadata", undefined, 2);
    expect(m.requests.get({ role: "artifact", status_class: "2xx" })).toBe(1);
    expect(m.requests.get({ role: "artifact", status_class: "4xx" })).toBe(1);
    expect(m.requests.get({ role: "metadata", status_class: "error" })).toBe(1);
    expect(m.rateWaitSeconds.get({ role: "artifact" })).toEqual({ count: 2, sum: 1.5 });
  });

  test("the full product exposition passes promtool check metrics", async () => {
    const fx = await statusFixture();
    const m = createProductMetrics({
      stats: sampleStats,
      hosts: () => fx.politeness.hostsSnapshot(),
      configuredHosts: ["arxiv.org"],
    });
    m.completions.inc({ state: "done", reason: "ok" }, 40);
    m.completions.inc({ state: "error", reason: "http_500" });
    m.completions.inc({ state: "skipped", reason: "robots_disallowed" });
    m.inFlight.set(undefined, 2);
    m.bytes.inc(undefined, 123456789);
    m.recordRequest("artifact", 200, 12);
    m.recordRequest("landing", 503, 0);
    m.downloadSeconds.observe(undefined, 0.7);
    m.leaseLosses.inc();
    const text = await m.registry.render();
    const result = promtoolCheck(text);
    if (result === null) {
      warnPromtoolMissing();
      return;
    }
    expect(result.output.trim()).toBe("");
    expect(result.code).toBe(0);
  });

  test("promtool rejects a broken exposition (the check can fail)", async () => {
    const result = promtoolCheck('# TYPE x counter\nx{a="1} 1\n');
    if (result === null) return warnPromtoolMissing();
    expect(result.code).not.toBe(0);
  });
});
