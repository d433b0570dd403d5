// The status dashboard: one self-contained HTML page (inline CSS and SVG, no scripts or external
// assets) rendered on the server from the same data the JSON routes serve, refreshing itself.
import { formatBytes, formatCount, formatDuration, formatRate } from "../telemetry/format.ts";
import {
  type HostSnapshot,
  JOB_STATES,
  type QueueStats,
  terminalJobs,
  totalJobs,
} from "../telemetry/snapshots.ts";
import type { RatePoint } from "../telemetry/throughput.ts";

export interface DashboardData {
  stats: QueueStats;
  hosts: HostSnapshot[];
  /** Throughput per sampling interval, oldest first. */
  series: RatePoint[];
  now: number;
  refreshSeconds: number;
  /** Shown in the header, e.g. "read-only" or "runner". */
  mode: string;
  /** Host rows shown (busiest first); the rest are summarized. */
  maxHostRows?: number;
  /** Where the library is: a directory or `s3://bucket/prefix`. */
  library?: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STATE_COLORS: Record<string, string> = {
  queued: "#6b7280",
  in_progress: "#2563eb",
  done: "#16a34a",
  skipped: "#d97706",
  error: "#dc2626",
};

/** A small line chart of jobs/s over time as inline SVG. */
export function throughputSvg(series: RatePoint[], width = 1140, height = 180): string {
  const pad = { l: 44, r: 8, t: 10, b: 22 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const frame = `<svg role="img" aria-label="Jobs finished per second over time" viewBox="0 0 ${width} ${height}" width="100%">`;
  if (series.length < 2) {
    return `${frame}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#6b7280" font-size="13">collecting samples…</text></svg>`;
  }
  const t0 = (series[0] as RatePoint).t;
  const t1 = (series[series.length - 1] as RatePoint).t;
  const maxY = Math.max(...series.map((p) => p.jobsPerSec), 0.001);
  const top = niceCeil(maxY);
  const x = (t: number) => pad.l + ((t - t0) / Math.max(1, t1 - t0)) * w;
  const y = (v: number) => pad.t + h - (v / top) * h;
  const pts = series.map((p) => `${x(p.t).toFixed(1)},${y(p.jobsPerSec).toFixed(1)}`).join(" ");
  const area = `${pad.l},${pad.t + h} ${pts} ${x(t1).toFixed(1)},${pad.t + h}`;
  const grid = [0, 0.5, 1]
    .map((f) => {
      const gy = (pad.t + h - f * h).toFixed(1);
      return `<line x1="${pad.l}" x2="${pad.l + w}" y1="${gy}" y2="${gy}" stroke="#e5e7eb"/><text x="${pad.l - 6}" y="${gy}" dy="4" text-anchor="end" font-size="11" fill="#6b7280">${escapeHtml(formatRate(top * f))}</text>`;
    })
    .join("");
  const span = formatDuration((t1 - t0) / 1000);
  return `${frame}${grid}<polygon points="${area}" fill="#2563eb" fill-opacity="0.12"/><polyline points="${pts}" fill="none" stroke="#2563eb" stroke-width="2"/><text x="${pad.l}" y="${height - 4}" font-size="11" fill="#6b7280">−${escapeHtml(span)}</text><text x="${pad.l + w}" y="${height - 4}" font-size="11" text-anchor="end" fill="#6b7280">now</text></svg>`;
}

function niceCeil(v: number): number {
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * e) return m * e;
  return 10 * e;
}

function when(epochMs: number | null | undefined, now: number): string {
  if (!epochMs || epochMs <= now) return "now";
  return `in ${formatDuration((epochMs - now) / 1000)}`;
}

/** The soonest a request of any role may go to this host. */
function nextRequestAt(h: HostSnapshot): number {
  return Math.min(...Object.values(h.nextAllowedAt));
}

function hostRow(h: HostSnapshot, now: number): string {
  const r = h.limits.rates;
  const limits = `${r.artifact} files, ${r.metadata} api, ${h.limits.maxConcurrent} conn${h.limits.crawlDelayMs > 0 ? `, crawl-delay ${formatDuration(h.limits.crawlDelayMs / 1000)}` : ""}`;
  const cooling = h.cooldownUntil > now ? when(h.cooldownUntil, now) : "–";
  const breaker = h.breaker.state;
  const failures = h.breaker.failures > 0 ? ` (${h.breaker.failures})` : "";
  return `<tr><td class="host">${escapeHtml(h.host)}</td><td class="n">${h.inFlightAll}</td><td class="n">${h.waiting}</td><td>${escapeHtml(limits)}</td><td>${escapeHtml(when(nextRequestAt(h), now))}</td><td>${escapeHtml(cooling)}</td><td><span class="breaker ${breaker}">${breaker.replace("_", "-")}${failures}</span></td><td class="n">${formatCount(h.count429)}</td></tr>`;
}

/** Busiest hosts first: in flight, then troubled breakers, then hosts cooling down. */
export function sortHosts(hosts: HostSnapshot[], now: number): HostSnapshot[] {
  const rank = { open: 2, half_open: 1, closed: 0 } as const;
  return [...hosts].sort(
    (a, b) =>
      b.inFlightAll - a.inFlightAll ||
      rank[b.breaker.state] - rank[a.breaker.state] ||
      Number(b.cooldownUntil > now) - Number(a.cooldownUntil > now) ||
      b.count429 - a.count429 ||
      a.host.localeCompare(b.host),
  );
}

export function renderDashboard(d: DashboardData): string {
  const total = totalJobs(d.stats);
  const finished = terminalJobs(d.stats);
  const pct = total > 0 ? (100 * finished) / total : 0;
  const last = d.series.slice(-6);
  const recent = last.length > 0 ? last.reduce((s, p) => s + p.jobsPerSec, 0) / last.length : null;
  const recentBytes = last.length > 0 ? last.reduce((s, p) => s + p.bytesPerSec, 0) / last.length : null;
  const remaining = total - finished;
  const eta = recent && recent > 0 ? remaining / recent : null;
  const cards = JOB_STATES.map(
    (st) =>
      `<div class="card"><div class="label"><i style="background:${STATE_COLORS[st]}"></i>${st.replace("_", " ")}</div><div class="value">${formatCount(d.stats.counts[st] ?? 0)}</div></div>`,
  ).join("");
  const bar = JOB_STATES.filter((st) => (d.stats.counts[st] ?? 0) > 0)
    .map(
      (st) =>
        `<span style="width:${((100 * (d.stats.counts[st] ?? 0)) / Math.max(1, total)).toFixed(3)}%;background:${STATE_COLORS[st]}" title="${st}"></span>`,
    )
    .join("");
  const maxRows = d.maxHostRows ?? 200;
  const sorted = sortHosts(d.hosts, d.now);
  const rows = sorted
    .slice(0, maxRows)
    .map((hst) => hostRow(hst, d.now))
    .join("");
  const more =
    sorted.length > maxRows
      ? `<tr><td colspan="8" class="more">… and ${formatCount(sorted.length - maxRows)} more hosts (see /api/hosts)</td></tr>`
      : "";
  const extra = [
    d.stats.ready !== undefined ? `ready ${formatCount(d.stats.ready)}` : "",
    d.stats.delayed !== undefined ? `delayed ${formatCount(d.stats.delayed)}` : "",
    d.stats.oldestReadyAgeMs != null ? `oldest ready ${formatDuration(d.stats.oldestReadyAgeMs / 1000)}` : "",
  ]
    .filter(Boolean)
    .join(" · ");

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="${d.refreshSeconds}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>docstokg · ${formatCount(finished)}/${formatCount(total)}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f9fafb;color:#111827}
header{display:flex;align-items:baseline;gap:12px;padding:14px 24px;background:#111827;color:#f9fafb}
header h1{font-size:18px;margin:0}header .mode{font-size:12px;opacity:.7}
header .paused{background:#d97706;color:#fff;border-radius:4px;padding:1px 8px;font-size:12px}
main{padding:16px 24px;max-width:1200px}
.cards{display:grid;grid-template-columns:repeat(5,1fr);gap:12px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px}
.card .label{font-size:12px;color:#6b7280;text-transform:uppercase;letter-spacing:.04em}
.card .label i{display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:6px}
.card .value{font-size:24px;font-variant-numeric:tabular-nums}
.bar{display:flex;height:10px;border-radius:5px;overflow:hidden;background:#e5e7eb;margin:14px 0 4px}
.bar span{display:block;height:100%}
.summary{color:#374151;font-variant-numeric:tabular-nums}
section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px 14px;margin-top:16px}
section h2{font-size:14px;margin:0 0 8px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #f3f4f6;white-space:nowrap}
th{font-size:12px;color:#6b7280;font-weight:600}
td.n,th.n{text-align:right}td.host{font-family:ui-monospace,monospace}td.more{color:#6b7280}
.breaker{border-radius:4px;padding:0 6px;font-size:12px}
.breaker.closed{background:#dcfce7;color:#166534}.breaker.open{background:#fee2e2;color:#991b1b}
.breaker.half_open{background:#fef3c7;color:#92400e}
footer{color:#9ca3af;font-size:12px;padding:8px 24px 24px}
</style></head>
<body>
<header><h1>docstokg</h1><span class="mode">${escapeHtml(d.mode)}</span>${d.stats.paused ? '<span class="paused">paused</span>' : ""}</header>
<main>
<div class="cards">${cards}</div>
<div class="bar">${bar}</div>
${d.library ? `<div class="summary">library: <code>${escapeHtml(d.library)}</code></div>` : ""}
<div class="summary"><b>${formatCount(finished)}</b> of ${formatCount(total)} finished (${pct.toFixed(1)}%) · ${recent === null ? "rate –" : escapeHtml(formatRate(recent))} · ${recentBytes === null ? "–" : escapeHtml(formatBytes(recentBytes))}/s · ETA ${escapeHtml(formatDuration(eta))}${extra ? ` · ${escapeHtml(extra)}` : ""}</div>
<section><h2>Throughput (jobs finished per second)</h2>${throughputSvg(d.series)}</section>
<section><h2>Hosts (${formatCount(d.hosts.length)})</h2>
<table><thead><tr><th>host</th><th class="n">in flight</th><th class="n">waiting</th><th>limits</th><th>next request</th><th>cooling down</th><th>breaker</th><th class="n">429s</th></tr></thead>
<tbody>${rows || '<tr><td colspan="8" class="more">no hosts contacted yet</td></tr>'}${more}</tbody></table></section>
</main>
<footer>Updated ${escapeHtml(new Date(d.now).toISOString())} · refreshes every ${d.refreshSeconds}s · JSON: /api/stats, /api/hosts, /api/jobs · metrics: /metrics</footer>
</body></html>
`;
}
