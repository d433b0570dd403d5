// `docstokg report` in text: the compact tables people read, rendered from the Report that
// report.ts aggregates (pure: no database here), and the aligned-columns helper other commands share.
import { formatBytes, formatCount } from "./format.ts";
import { type Report, ROLES } from "./report.ts";

const ms = (x: number | null) => (x === null ? "–" : `${formatCount(Math.round(x))} ms`);
const share = (x: number | null) => (x === null ? "–" : `${(100 * x).toFixed(1)}%`);
const dur = (x: number | null) => {
  if (x === null) return "–";
  if (x < 1000) return `${Math.round(x)} ms`;
  if (x < 120_000) return `${(x / 1000).toFixed(1)} s`;
  if (x < 7_200_000) return `${(x / 60_000).toFixed(1)} min`;
  return `${(x / 3_600_000).toFixed(1)} h`;
};

/** Text columns (the first `left`) aligned left, numbers right. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], left = 1): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i < left ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

const indent = (lines: string[]) => lines.map((l) => `  ${l}`);

export function reportText(r: Report, o: { maxHosts?: number } = {}): string {
  const out: string[] = [];
  const s = r.jobs.by_state;
  out.push(
    `jobs ${formatCount(r.jobs.total)}: done ${formatCount(s.done)}, skipped ${formatCount(s.skipped)}, error ${formatCount(s.error)}, queued ${formatCount(s.queued)}, in progress ${formatCount(s.in_progress)}`,
  );
  if (r.jobs.by_reason.length > 0) {
    out.push("", "outcomes");
    out.push(
      ...indent(
        table(
          ["state", "reason", "jobs"],
          r.jobs.by_reason.map((x) => [x.state, x.reason, formatCount(x.count)]),
          2,
        ),
      ),
    );
  }
  out.push(
    "",
    `yield ${share(r.yield.ratio)} (${formatCount(r.yield.obtained)} of ${formatCount(r.yield.finished)} finished)`,
  );
  if (r.yield.by_resolver.length > 0) {
    out.push(
      ...indent(
        table(
          ["resolver", "tries", "obtained", "share"],
          r.yield.by_resolver.map((x) => [
            x.resolver,
            formatCount(x.attempts),
            formatCount(x.obtained),
            share(x.share),
          ]),
        ),
      ),
    );
  }
  if (r.yield.by_tier.length > 0) {
    out.push(
      ...indent(
        table(
          ["tier", "obtained", "share"],
          r.yield.by_tier.map((x) => [
            x.tier === null ? "–" : String(x.tier),
            formatCount(x.obtained),
            share(x.share),
          ]),
        ),
      ),
    );
  }
  if (r.hosts.length > 0) {
    const max = o.maxHosts ?? 20;
    const hosts = [...r.hosts].sort((a, b) => b.requests - a.requests || a.host.localeCompare(b.host));
    out.push("", "hosts");
    out.push(
      ...indent(
        table(
          ["host", "requests", "429", "429 %", "wait p50", "wait p95", "breaker", "opened", "why"],
          hosts
            .slice(0, max)
            .map((h) => [
              h.host,
              formatCount(h.requests),
              formatCount(h.responses_429),
              share(h.ratio_429),
              ms(h.rate_wait_ms.p50),
              ms(h.rate_wait_ms.p95),
              h.breaker ?? "–",
              formatCount(h.breaker_openings),
              h.breaker_openings > 0 ? (h.breaker_reason ?? "–") : "",
            ]),
        ),
      ),
    );
    if (hosts.length > max) out.push(`  … ${hosts.length - max} more hosts (--json lists all)`);
  }
  if (r.sources.length > 0) {
    out.push("", `sources today (UTC ${r.sources[0]?.day})`);
    out.push(
      ...indent(
        table(
          ["source", "requests", "daily limit", "spent", "remaining", "quota"],
          r.sources.map((x) => [
            x.source,
            formatCount(x.requests),
            x.daily_limit === null ? "–" : formatCount(x.daily_limit),
            x.cost_usd > 0 || x.remaining_usd !== null ? `$${x.cost_usd.toFixed(4)}` : "–",
            x.remaining_usd === null ? "–" : `$${x.remaining_usd}`,
            x.exhausted_until ? `spent until ${x.exhausted_until} (${x.when_exhausted})` : "ok",
          ]),
          2,
        ),
      ),
    );
  }
  out.push("", "rate wait");
  out.push(
    ...indent(
      table(
        ["role", "requests", "p50", "p95"],
        ROLES.map((role) => {
          const d = r.rate_wait_ms[role];
          return [role, formatCount(d.count), ms(d.p50), ms(d.p95)];
        }),
      ),
    ),
  );
  const t = r.time_to_first_pdf_ms;
  out.push(
    "",
    `time to first PDF  p50 ${dur(t.p50)}  p95 ${dur(t.p95)}  (${formatCount(t.count)} works)`,
    `bytes stored ${formatBytes(r.bytes.stored)} in ${formatCount(r.bytes.files)} files; saved by deduplication ${formatBytes(r.bytes.saved_by_dedup)}`,
  );
  if (r.verify) {
    const v = r.verify;
    out.push(
      `verified ${formatCount(v.files)} files (${formatBytes(v.bytes)}): ${formatCount(v.ok)} ok, ${formatCount(v.missing)} missing, ${formatCount(v.corrupt)} corrupt`,
    );
    for (const p of v.problems)
      out.push(`  ${p.problem.padEnd(7)} ${p.path}${p.actual ? `  (sha256 ${p.actual})` : ""}`);
    if (v.problems.length < v.missing + v.corrupt) {
      out.push(
        `  … ${v.missing + v.corrupt - v.problems.length} more (--json lists the first ${v.problems.length})`,
      );
    }
  }
  out.push("", "objectives");
  for (const x of r.objectives) {
    const mark = x.status === "met" ? "ok  " : x.status === "violated" ? "FAIL" : "--  ";
    out.push(`  ${mark} ${x.name.padEnd(24)}${x.detail}`);
  }
  return `${out.join("\n")}\n`;
}
