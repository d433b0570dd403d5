// Scraping, one part of the tier plan: a landing page is fetched (bounded, once per job whatever URL
// led to it) and its PDF links become candidates of the running tier; an HTML page met where a PDF
// was expected is scraped the same way, one level deep. A Wayback capture's links are fetched from
// the archive too. The page parsing itself is landing.ts.
import type { ResolverName } from "../config/schema.ts";
import type { Span } from "../telemetry/tracing.ts";
import { discard, readBounded } from "./body.ts";
import { scrapeLandingPage } from "./landing.ts";
import { countSlowDowns, fail, type PlanState } from "./plan-state.ts";
import { type CandidateRecord, candidateKey } from "./progress.ts";

export type Enqueue = (rec: CandidateRecord) => void;

/** Fetch a landing page and queue the PDF links it carries (a page that is a PDF goes back as one). */
export async function scrapeLanding(
  s: PlanState,
  rec: CandidateRecord,
  tier: number,
  enqueue: Enqueue,
  span: Span,
): Promise<void> {
  if (s.scrapedPages.has(rec.key)) {
    rec.state = "scraped";
    rec.message = "page already scraped for this job";
    return;
  }
  const signal = s.abort.signal;
  const res = await s.deps.http.request({
    url: rec.url,
    role: "landing",
    resolver: rec.resolver,
    signal,
    slowDownRetries: s.slowDownRetriesLeft(rec),
  });
  span.set({ status: res.ok ? res.response.status : res.status });
  if (signal.aborted) {
    if (res.ok) await discard(res.response);
    return;
  }
  if (!res.ok) {
    countSlowDowns(rec, res.slowDowns);
    fail(rec, res.reason, res.message, res.retryAt);
    return;
  }
  const response = res.response;
  rec.final_url = response.url;
  const finalKey = candidateKey(response.url);
  if (s.scrapedPages.has(finalKey) && finalKey !== rec.key) {
    await discard(response);
    rec.state = "scraped";
    rec.message = `same page as an earlier landing page (${response.url})`;
    return;
  }
  let body: { bytes: Uint8Array; truncated: boolean };
  try {
    body = await readBounded(response, s.config.resolvers.landing.max_page_bytes);
    span.set({ bytes: body.bytes.length });
  } catch (e) {
    if (signal.aborted) return;
    fail(rec, "conn_error", e instanceof Error ? e.message : String(e));
    return;
  }
  // A "landing page" that is the PDF itself: try it as a PDF candidate.
  if (startsWithPdf(body.bytes)) {
    rec.kind = "pdf";
    enqueue(rec);
    return;
  }
  s.scrapedPages.add(rec.key);
  s.scrapedPages.add(finalKey);
  const text = new TextDecoder().decode(body.bytes);
  const found = await scrapeText(s, rec, text, response.url, tier, enqueue, 0);
  if (found === 0) {
    if (rec.state === "pending") fail(rec, "html_only", "no PDF link on the page");
  } else rec.state = "scraped";
}

/** Scrape an HTML page for PDF links and queue them; returns how many new candidates it added. */
export async function scrapeText(
  s: PlanState,
  page: CandidateRecord,
  html: string,
  pageUrl: string,
  tier: number,
  enqueue: Enqueue,
  depth: number,
): Promise<number> {
  const cfg = s.config.resolvers;
  // A Wayback capture in `id_` form carries the original page's links: resolve them against the
  // original URL and fetch them from the archive too.
  const archived = page.resolver === "wayback" ? page.provenance : undefined;
  const base = archived?.original_url && archived.timestamp ? archived.original_url : pageUrl;
  let links: { url: string; found_by: string }[];
  try {
    links = await scrapeLandingPage(html, base, cfg.landing.max_links);
  } catch {
    return 0;
  }
  let added = 0;
  for (const link of links) {
    const url =
      archived?.timestamp !== undefined
        ? `${cfg.wayback.capture_base_url.replace(/\/+$/, "")}/web/${archived.timestamp}id_/${link.url}`
        : link.url;
    const resolver: ResolverName =
      page.resolver === "doi" || page.resolver === "wayback" ? page.resolver : "landing";
    const rec = s.add(
      {
        url,
        kind: "pdf",
        resolver,
        tier,
        provenance: { ...page.provenance, via: page.url, found_by: link.found_by },
      },
      { depth },
    );
    if (!rec) continue;
    added++;
    enqueue(rec);
  }
  return added;
}

function startsWithPdf(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 1024));
  return head.includes("%PDF-");
}
