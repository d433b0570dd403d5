import { describe, expect, test } from "bun:test";
import { escapeHtml, renderDashboard, sortHosts, throughputSvg } from "../../src/status/dashboard.ts";
import type { HostSnapshot, QueueStats } from "../../src/telemetry/snapshots.ts";

const NOW = 1_800_000_000_000;

function host(name: string, over: Partial<HostSnapshot> = {}): HostSnapshot {
  return {
    host: name,
    inFlight: 0,
    inFlightAll: 0,
    waiting: 0,
    limits: {
      maxConcurrent: 4,
      burst: 1,
      rates: { metadata: "10/s", landing: "5/s", artifact: "2/s" },
      intervalMs: { metadata: 100, landing: 200, artifact: 500 },
      crawlDelayMs: 0,
      source: "default",
    },
    nextAllowedAt: { metadata: 0, landing: 0, artifact: 0 },
    cooldownUntil: 0,
    breaker: { state: "closed", failures: 0, openUntil: 0, reason: null },
    count429: 0,
    ...over,
  } as HostSnapshot;
}

const stats = (over: Partial<QueueStats> = {}): QueueStats => ({
  counts: { queued: 90, in_progress: 4, done: 5, skipped: 0, error: 1 },
  total: 100,
  ready: 80,
  delayed: 10,
  expired: 0,
  oldestReadyAgeMs: 125_000,
  nextAvailableAt: null,
  throughput: { lastMinute: 0, last15MinutesPerMinute: 0 },
  paused: false,
  ...over,
});

describe("dashboard", () => {
  test("escapes HTML metacharacters", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;");
  });

  test("the chart waits for two samples, then plots one point per interval", () => {
    expect(throughputSvg([])).toContain("collecting samples");
    const svg = throughputSvg([
      { t: NOW, jobsPerSec: 1, bytesPerSec: 0 },
      { t: NOW + 5000, jobsPerSec: 3, bytesPerSec: 0 },
      { t: NOW + 10000, jobsPerSec: 2, bytesPerSec: 0 },
    ]);
    const points = /<polyline points="([^"]+)"/.exec(svg)?.[1]?.split(" ") ?? [];
    expect(points).toHaveLength(3);
    // The highest rate is the highest point (smallest y).
    const ys = points.map((p) => Number(p.split(",")[1]));
    expect(Math.min(...ys)).toBe(ys[1] as number);
  });

  test("summary: finished share, ETA from recent rate, readiness figures, paused badge", () => {
    const html = renderDashboard({
      stats: stats({ paused: true }),
      hosts: [],
      series: [
        { t: NOW, jobsPerSec: 2, bytesPerSec: 1e6 },
        { t: NOW + 5000, jobsPerSec: 2, bytesPerSec: 1e6 },
      ],
      now: NOW,
      refreshSeconds: 7,
      mode: "runner",
    });
    expect(html).toContain("<b>6</b> of 100 finished (6.0%)");
    expect(html).toContain("2.00/s");
    expect(html).toContain("ETA 47s");
    expect(html).toContain("oldest ready 2m05s");
    expect(html).toContain('class="paused"');
    expect(html).toContain('content="7"');
    expect(html).toContain("no hosts contacted yet");
  });

  test("busiest and troubled hosts first; the table is capped with a pointer to the API", () => {
    const hosts = [
      host("quiet.example"),
      host("open.example", {
        breaker: { state: "open", failures: 5, openUntil: NOW + 1000, reason: "timeout" },
      }),
      host("busy.example", { inFlightAll: 3 }),
      host("cooling.example", { cooldownUntil: NOW + 60_000 }),
    ];
    expect(sortHosts(hosts, NOW).map((h) => h.host)).toEqual([
      "busy.example",
      "open.example",
      "cooling.example",
      "quiet.example",
    ]);
    const html = renderDashboard({
      stats: stats(),
      hosts,
      series: [],
      now: NOW,
      refreshSeconds: 5,
      mode: "read-only",
      maxHostRows: 2,
    });
    expect(html).toContain("busy.example");
    expect(html).not.toContain("quiet.example");
    expect(html).toContain("and 2 more hosts");
  });
});
