import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { sortHosts } from "../../src/status/app.ts";
import { escapeHtml, renderStatusPage, statusPageCsp } from "../../src/status/dashboard.ts";
import type { HostSnapshot } from "../../src/telemetry/snapshots.ts";

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

const hash = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

describe("status page", () => {
  test("escapes HTML metacharacters", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;");
  });

  test("its one script and one style are exactly those the CSP admits by hash", () => {
    const html = renderStatusPage({ mode: "runner", controls: true, refreshSeconds: 5 });
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] as string);
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] as string);
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    const csp = statusPageCsp();
    expect(csp).toContain(`script-src ${hash(scripts[0] as string)}`);
    expect(csp).toContain(`style-src ${hash(styles[0] as string)}`);
    for (const d of ["default-src 'none'", "connect-src 'self'", "base-uri 'none'", "frame-ancestors 'none'"])
      expect(csp).toContain(d);
    expect(csp).not.toContain("unsafe-inline");
  });

  test("self-contained and small: no external reference, no style attribute, far under 1 MB", () => {
    const html = renderStatusPage({ mode: "read-only", controls: false, refreshSeconds: 5 });
    expect(html).not.toMatch(/\s(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<[^>]+\sstyle="/);
    expect(Buffer.byteLength(html)).toBeLessThan(100_000);
    expect(html).toContain('data-controls="0"');
    expect(html).toContain('<meta name="viewport"');
  });

  test("controls are offered only where the control routes exist", () => {
    expect(renderStatusPage({ mode: "runner", controls: true, refreshSeconds: 5 })).toContain('id="pause"');
    expect(renderStatusPage({ mode: "read-only", controls: false, refreshSeconds: 5 })).not.toContain(
      'id="pause"',
    );
  });

  test("busiest and troubled hosts first", () => {
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
  });
});
