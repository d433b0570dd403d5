// Human output of the queue commands: numbers, durations and tables that fit a terminal. Pure
// functions, so the wording is tested without running a command.
import type { ImportSummary } from "../store/import.ts";
import type { JobDetail, JobRow, QueueStats } from "../store/types.ts";

export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** 0 → "0s", 75_000 → "1m 15s", 90_061_000 → "1d 1h". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

export function isoTime(ms: number | null): string {
  return ms === null ? "-" : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function importSummaryLine(s: ImportSummary): string {
  return `${count(s.added)} new, ${count(s.duplicate)} duplicate, ${count(s.invalid)} invalid`;
}

export function statsText(s: QueueStats): string {
  const rows: [string, string, string][] = [
    ["queued", count(s.counts.queued), `ready ${count(s.ready)}, delayed ${count(s.delayed)}`],
    [
      "in_progress",
      count(s.counts.in_progress),
      s.expired ? `${count(s.expired)} with an expired lease` : "",
    ],
    ["done", count(s.counts.done), ""],
    ["skipped", count(s.counts.skipped), ""],
    ["error", count(s.counts.error), ""],
    ["total", count(s.total), ""],
  ];
  const width = Math.max(...rows.map((r) => r[1].length));
  const lines = rows.map(([k, v, note]) => `${k.padEnd(12)}${v.padStart(width)}${note ? `  (${note})` : ""}`);
  lines.push("");
  lines.push(`oldest ready  ${s.oldestReadyAgeMs === null ? "-" : duration(s.oldestReadyAgeMs)}`);
  if (s.nextAvailableAt !== null) lines.push(`next delayed  ${isoTime(s.nextAvailableAt)}`);
  lines.push(
    `throughput    ${count(s.throughput.lastMinute)}/min last minute, ${s.throughput.last15MinutesPerMinute.toFixed(1)}/min over 15 min`,
  );
  lines.push(`paused        ${s.paused ? "yes (runners do not lease; `docstokg queue resume`)" : "no"}`);
  return `${lines.join("\n")}\n`;
}

function fit(text: string, width: number): string {
  if (width <= 1) return "";
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** A table of jobs; the artifact id column takes what the terminal width leaves. */
export function jobsTable(jobs: readonly JobRow[], columns = 100): string {
  const head = ["id", "state", "tries", "reason", "updated", "artifact"];
  const rows = jobs.map((j) => [
    String(j.id),
    j.state,
    String(j.attempts),
    j.lastReason ?? "-",
    isoTime(j.updatedAt),
    j.artifactId,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const fixed = widths.slice(0, 5).reduce((a, b) => a + b + 2, 0);
  const last = Math.max(12, columns - fixed);
  const line = (cells: string[]) =>
    cells
      .map((c, i) =>
        i === 5 ? fit(c, last) : i === 0 || i === 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0),
      )
      .join("  ")
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join("\n")}\n`;
}

export function jobDetailText(d: JobDetail, columns = 100): string {
  const j = d.job;
  const out: string[] = [
    `job ${j.id}  ${j.artifactId}`,
    `state        ${j.state}${j.lastReason ? ` (${j.lastReason})` : ""}`,
    `attempts     ${j.attempts}${j.maxAttempts !== null ? ` of ${j.maxAttempts}` : ""}`,
    `priority     ${j.priority}`,
    `available    ${isoTime(j.availableAt)}`,
  ];
  if (j.leaseOwner) out.push(`lease        ${j.leaseOwner} until ${isoTime(j.leaseExpiresAt)}`);
  if (j.lastError) out.push(`last error   ${fit(j.lastError, columns - 13)}`);
  out.push(`created      ${isoTime(j.createdAt)}`, `updated      ${isoTime(j.updatedAt)}`);
  out.push(`artifact     ${fit(JSON.stringify(j.artifact), columns - 13)}`);
  out.push("", `attempts (${d.attempts.length})`);
  for (const a of d.attempts) {
    const where = [a.resolver, a.tier !== null ? `tier ${a.tier}` : null].filter(Boolean).join(" ");
    const result = [a.httpStatus !== null ? String(a.httpStatus) : null, a.reason].filter(Boolean).join(" ");
    out.push(fit(`  ${isoTime(a.at)}  ${where || "-"}  ${result || "-"}  ${a.url ?? ""}`, columns));
  }
  out.push("", `outcomes (${d.outcomes.length})`);
  for (const o of d.outcomes) {
    out.push(`  #${o.seq} ${o.state} ${o.reason} at ${isoTime(o.finishedAt)} after ${o.attempts} attempt(s)`);
    if (o.url) out.push(fit(`    url      ${o.url}`, columns));
    if (o.finalUrl && o.finalUrl !== o.url) out.push(fit(`    final    ${o.finalUrl}`, columns));
    if (o.sha256) out.push(`    sha256   ${o.sha256}`);
    if (o.path) out.push(fit(`    path     ${o.path}`, columns));
    if (o.bytes !== null)
      out.push(`    bytes    ${count(o.bytes)}${o.contentType ? ` (${o.contentType})` : ""}`);
    if (o.license || o.licenseUrl)
      out.push(fit(`    license  ${[o.license, o.licenseUrl].filter(Boolean).join("  ")}`, columns));
    if (o.version) out.push(`    version  ${o.version}`);
    if (o.hostType) out.push(`    host     ${o.hostType}`);
    if (o.oaStatus) out.push(`    oa       ${o.oaStatus}`);
    if (o.message) out.push(fit(`    message  ${o.message}`, columns));
  }
  return `${out.join("\n")}\n`;
}
