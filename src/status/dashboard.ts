// The status page: one self-contained HTML document (inline CSS and one inline script, no external
// assets) that renders the JSON API in the browser. Its CSP admits that script and that style by
// their SHA-256 only, lets it talk to its own origin and nothing else.
import { createHash } from "node:crypto";
import { statusPageMain } from "./page-script.ts";

export interface StatusPageOptions {
  /** Shown in the header, e.g. "read-only" or "runner". */
  mode: string;
  /** The control routes exist here (a token is configured and the store can be written). */
  controls: boolean;
  /** Refresh period in seconds. */
  refreshSeconds: number;
  /** Where the library is: a directory or `s3://bucket/prefix`. */
  library?: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
:root{--bg:#f9fafb;--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--card:#fff;--accent:#2563eb}
*{box-sizing:border-box}[hidden]{display:none!important}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:var(--bg);color:var(--fg)}
header{display:flex;flex-wrap:wrap;align-items:center;gap:8px 14px;padding:10px 20px;background:#111827;color:#f9fafb}
header h1{font-size:18px;margin:0}header .mode{font-size:12px;opacity:.75}
#paused{background:#d97706;color:#fff;border-radius:4px;padding:1px 8px;font-size:12px}
header form{display:flex;gap:6px;margin-left:auto}
input,select,button{font:inherit;padding:4px 8px;border:1px solid var(--line);border-radius:6px;background:#fff;color:var(--fg)}
button{cursor:pointer}button:hover{border-color:var(--accent)}button.small{padding:0 6px;font-size:12px}
header input{min-width:16em}
nav.tabs{display:flex;gap:4px;padding:0 20px;background:#1f2937;overflow-x:auto}
nav.tabs a{color:#d1d5db;text-decoration:none;padding:8px 12px;white-space:nowrap}
nav.tabs a.on{color:#fff;border-bottom:2px solid #60a5fa}
#controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;padding:8px 20px;background:#fff;border-bottom:1px solid var(--line)}
#control-buttons{display:flex;gap:8px}
#notice.ok{color:#166534}#notice.error{color:#991b1b}
main{padding:14px 20px;max-width:1280px}
.cards{display:grid;grid-template-columns:repeat(5,1fr);gap:10px}
.card{display:block;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 12px;color:inherit;text-decoration:none}
.card .label{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:22px;font-variant-numeric:tabular-nums}
.bar{display:flex;height:10px;border-radius:5px;overflow:hidden;background:var(--line);margin:12px 0 4px}
.bar span{display:block;height:100%}
.queued{background-color:#6b7280}.in_progress{background-color:#2563eb}.done{background-color:#16a34a}
.skipped{background-color:#d97706}.error{background-color:#dc2626}
.card.queued,.card.in_progress,.card.done,.card.skipped,.card.error{background:var(--card);border-top:4px solid}
.card.queued{border-top-color:#6b7280}.card.in_progress{border-top-color:#2563eb}.card.done{border-top-color:#16a34a}
.card.skipped{border-top-color:#d97706}.card.error{border-top-color:#dc2626}
.pill{border-radius:4px;padding:0 6px;font-size:12px;color:#fff;white-space:nowrap}
.pill.b-closed{background:#dcfce7;color:#166534}.pill.b-open{background:#fee2e2;color:#991b1b}
.pill.b-half_open{background:#fef3c7;color:#92400e}
.pill.c-ok,.pill.c-scraped{background:#16a34a}.pill.c-failed{background:#dc2626}.pill.c-pending{background:#6b7280}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px;margin-top:14px}
section h2{font-size:15px;margin:0 0 8px}h3{font-size:13px;margin:12px 0 4px;color:#374151}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #f3f4f6;white-space:nowrap;vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600}
td.n,th.n{text-align:right}
.mono,.url{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
.url{white-space:normal;word-break:break-all}.examples{white-space:normal}
.muted{color:var(--muted);fill:var(--muted);font-size:12px}
.two{display:grid;grid-template-columns:2fr 1fr;gap:12px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;word-break:break-all}
#chart svg{width:100%;height:auto}.grid{stroke:var(--line)}.area{fill:var(--accent);fill-opacity:.12}
.line{fill:none;stroke:var(--accent);stroke-width:2}
#filters{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:8px}
.pager{display:flex;gap:16px;padding-top:8px}
a{color:var(--accent)}
footer{color:#9ca3af;font-size:12px;padding:8px 20px 24px}
@media (max-width:760px){
  header,main,#controls{padding-left:10px;padding-right:10px}
  header form{margin-left:0;width:100%}header input{min-width:0;flex:1}
  .cards{grid-template-columns:repeat(2,1fr)}.two{grid-template-columns:1fr}
  th,td{padding:3px 5px}
}
`;

const SCRIPT = `(${statusPageMain.toString()})();`;

function sha256(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

const CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "img-src data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join("; ");

/** The Content-Security-Policy header the page is served with. */
export function statusPageCsp(): string {
  return CSP;
}

const STATE_OPTIONS = ["", "queued", "in_progress", "done", "skipped", "error"]
  .map((s) => `<option value="${s}">${s === "" ? "any state" : s.replace("_", " ")}</option>`)
  .join("");

export function renderStatusPage(o: StatusPageOptions): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>docstokg</title>
<style>${STYLE}</style></head>
<body data-mode="${escapeHtml(o.mode)}" data-controls="${o.controls ? "1" : "0"}" data-refresh="${o.refreshSeconds}">
<header><h1>docstokg</h1><span class="mode" id="mode">${escapeHtml(o.mode)}</span><span id="paused" hidden>paused</span>
<form id="search" role="search"><input id="q" name="q" placeholder="artifact id, DOI or job id" aria-label="find a job" autocomplete="off"><button type="submit">find</button></form></header>
<nav class="tabs"><a href="#" data-view="overview">overview</a><a href="#view=jobs" data-view="jobs">jobs</a><a href="#view=jobs&amp;state=error" data-view="failures">failures</a></nav>
<div id="controls">${
    o.controls
      ? `<button type="button" id="lock">enter token</button>
<form id="token-form" hidden><input id="token" type="password" autocomplete="off" placeholder="status token" aria-label="status token"><button type="submit">use for this tab</button></form>
<span id="control-buttons" hidden><button type="button" id="pause">pause queue</button><button type="button" id="resume" hidden>resume queue</button><button type="button" id="retry-all">retry all failed</button></span>`
      : `<span class="muted">read-only: no status.token is configured</span>
<button type="button" id="lock" hidden>enter token</button><form id="token-form" hidden><input id="token" type="password" autocomplete="off" aria-label="status token"><button type="submit">use for this tab</button></form><span id="control-buttons" hidden></span>`
  }<span id="notice" role="status"></span></div>
<main>
<div class="cards" id="cards"></div>
<div class="bar" id="bar"></div>
<div class="summary" id="summary">loading…</div>
${o.library ? `<div class="summary">library: <code>${escapeHtml(o.library)}</code></div>` : ""}
<div id="view-overview">
<section><h2>Why jobs fail</h2><div id="failures"></div></section>
<section><h2>Yield per resolver and tier</h2><div id="yield"></div></section>
<section><h2>Throughput (jobs finished per second)</h2><div id="chart"></div></section>
<section><h2>Runners</h2><div id="runners"></div></section>
<section><h2 id="hosts-title">Hosts</h2><div id="hosts"></div></section>
</div>
<div id="view-jobs" hidden><section><h2>Jobs</h2>
<form id="filters"><label>state <select id="f-state">${STATE_OPTIONS}</select></label>
<label>reason <input id="f-reason" placeholder="e.g. http_404" size="14" autocomplete="off"></label><button type="submit">filter</button></form>
<div id="jobs"></div></section></div>
<div id="view-search" hidden><section id="search-results"></section></div>
<div id="view-job" hidden>
<section id="job-head"></section>
<section><h2>Attempts</h2><div id="job-attempts"></div></section>
<section><h2>Outcome</h2><div id="job-outcome"></div></section>
<section><h2>Progress through the tiers</h2><div id="job-progress"></div></section>
</div>
<noscript><p>This page needs JavaScript; the same data is at /api/stats, /api/summary, /api/jobs, /api/hosts and /api/runners.</p></noscript>
</main>
<footer><span id="updated"></span> · JSON: /api/stats, /api/summary, /api/jobs, /api/search, /api/runners, /api/hosts · metrics: /metrics</footer>
<script>${SCRIPT}</script>
</body></html>
`;
}
