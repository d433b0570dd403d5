// What `docstokg openalex …` prints: progress and end lines of a pull, the dry-run estimate and the
// table of pulls. Pure, so the wording is tested without a network.
import type { DryRun, PageProgress, PullResult } from "../openalex/pull.ts";
import type { PullRow } from "../store/pulls.ts";

const n = (x: number) => x.toLocaleString("en-US");

/** Dollars with as many decimals as page prices need ($0.0001 a page). */
export function usd(x: number): string {
  return `$${x.toFixed(x !== 0 && Math.abs(x) < 0.01 ? 4 : 2)}`;
}

export function describeQuery(p: Pick<PullRow, "filter" | "search">): string {
  const parts: string[] = [];
  if (p.filter) parts.push(`filter ${p.filter}`);
  if (p.search) parts.push(`search ${JSON.stringify(p.search)}`);
  return parts.length ? parts.join(", ") : "all works";
}

function share(done: number, count: number | null): string {
  if (count === null || count <= 0) return `${n(done)} works`;
  return `${n(done)} of ${n(count)} works (${Math.min(100, Math.floor((done / count) * 100))}%)`;
}

export function pageLine(p: PageProgress): string {
  return `pull ${p.pull.id} page ${n(p.pull.pages)}: ${share(p.pull.works, p.pull.count)}, ${n(p.run.queued)} new jobs this run, ${usd(p.pull.cost_usd)} spent`;
}

export function startLine(pull: PullRow): string {
  if (pull.pages === 0) return `pull ${pull.id} (${describeQuery(pull)}): starting`;
  return `pull ${pull.id} (${describeQuery(pull)}): resuming after page ${n(pull.pages)}, ${share(pull.works, pull.count)}`;
}

/** The line that ends a run, and whether it is a failure (exit 1). */
export function endLine(r: PullResult): { text: string; failure: boolean } {
  const p = r.pull;
  const totals = `${n(p.works)} works over ${n(p.pages)} pages, ${n(p.queued)} new jobs, ${n(p.duplicate)} already queued, ${usd(p.cost_usd)}`;
  const again = "run the same command again to continue";
  switch (r.end) {
    case "complete":
      return {
        text: r.already
          ? `pull ${p.id} is already complete (${totals}); nothing asked`
          : `pull ${p.id} complete: ${totals}`,
        failure: false,
      };
    case "max":
      return {
        text: `pull ${p.id}: stopped after ${n(r.run.works)} works (--max); ${share(p.works, p.count)} so far; ${again}`,
        failure: false,
      };
    case "cost_cap":
      return {
        text: `pull ${p.id}: stopped before resolvers.openalex.max_cost_usd (${usd(r.capUsd)}): ${usd(p.cost_usd)} spent, the next page costs ${usd(r.nextCostUsd)}; ${share(p.works, p.count)} so far; raise the cap and run again to continue`,
        failure: false,
      };
    case "budget":
      return {
        text: `pull ${p.id}: ${r.why ?? `OpenAlex says the key's budget is spent${r.resetAt ? ` until ${new Date(r.resetAt).toISOString()}` : ""}`}; ${share(p.works, p.count)} so far; ${again} then`,
        failure: true,
      };
    case "stopped":
      return {
        text: `pull ${p.id}: ${r.message}${r.retryAt ? ` (OpenAlex asks to wait until ${new Date(r.retryAt).toISOString()})` : ""}; ${share(p.works, p.count)} committed; ${again}`,
        failure: true,
      };
    case "failed":
      return { text: `pull ${p.id} failed: ${r.message}`, failure: true };
    case "moved":
      return {
        text: `pull ${p.id}: another docstokg process committed the same page; run one import of a pull at a time`,
        failure: true,
      };
    case "interrupted":
      return {
        text: `pull ${p.id}: interrupted; ${share(p.works, p.count)} committed; ${again}`,
        failure: true,
      };
  }
}

export function dryRunText(d: DryRun): string {
  const lines = [`OpenAlex reports ${n(d.estimate.count)} works`];
  if (d.pull?.state === "done") lines.push(`pull ${d.pull.id} is complete: nothing left to ask`);
  else {
    if (d.pull && d.pull.pages > 0)
      lines.push(
        `pull ${d.pull.id} stands at ${share(d.pull.works, d.pull.count)} (${usd(d.pull.cost_usd)} spent)`,
      );
    lines.push(`pages to ask: ${n(d.estimate.pages)} of up to 200 works`);
    lines.push(`estimated cost: ${usd(d.estimate.costUsd)}`);
  }
  lines.push(`(this count cost ${usd(d.costUsd)}; nothing was queued)`);
  return `${lines.join("\n")}\n`;
}

function pad(cells: string[][]): string {
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length))) ?? [];
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function pullsTable(pulls: readonly PullRow[]): string {
  if (pulls.length === 0) return "no OpenAlex pulls yet\n";
  const rows = [["ID", "STATE", "PAGES", "WORKS", "NEW JOBS", "COST", "UPDATED", "QUERY"]];
  for (const p of pulls)
    rows.push([
      String(p.id),
      p.state,
      n(p.pages),
      p.count === null ? n(p.works) : `${n(p.works)}/${n(p.count)}`,
      n(p.queued),
      usd(p.cost_usd),
      new Date(p.updated_at).toISOString().slice(0, 19).replace("T", " "),
      describeQuery(p) + (p.error ? ` — ${p.error}` : ""),
    ]);
  return `${pad(rows)}\n`;
}
