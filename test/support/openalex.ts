// A simulated OpenAlex `/works` list endpoint on a loopback host: cursor pages built from the recorded
// page (test/fixtures/api/openalex-works-page.json, its three works varied into as many as asked),
// `select` and `per-page` obeyed, `meta.cost_usd` and the budget headers the real API sends
// (http-headers.json `openalex_list_2026`), 401 without a key, 429 once the day's budget is spent,
// and scripted back-pressure: a 429 with Retry-After or a 403 "too fast" on a chosen page.
//
//   const oa = await startOpenAlex(web, { works: 1234, throttle: { page: 3, retryAfterS: 2 } });
//   config.resolvers.openalex = { base_url: oa.baseUrl, api_key: "k" };
import { fixtureJson } from "./fixtures.ts";
import { utf8 } from "./pdf.ts";
import { bytesResponse, type SimHost, type SimWeb } from "./web.ts";

export interface SimOpenAlexOptions {
  /** Works the query matches (every query matches the same works). */
  works?: number;
  /** The first request for this page (1-based, by offset / 200) answers 429 with Retry-After. */
  throttle?: { page: number; retryAfterS: number };
  /** The first request for this page answers 403 "too fast" (no Retry-After). */
  tooFast?: { page: number };
  /** The key's daily budget in USD (x-ratelimit-limit-usd); past it every list request gets 429. */
  budgetUsd?: number;
  /** Hold each answer this long (so a test can kill the client while a page is in flight). */
  delayMs?: number;
  /** Called when a request arrives, before it is answered. */
  onRequest?: (r: SimRequest) => void;
}

export interface SimRequest {
  /** performance.now() at arrival. */
  at: number;
  cursor: string;
  offset: number;
  perPage: number;
  status: number;
  params: URLSearchParams;
  /** Retry-After sent, seconds. */
  retryAfterS?: number;
}

export interface SimOpenAlex {
  host: SimHost;
  baseUrl: string;
  /** The full work records, in the order pages serve them. */
  works: Record<string, unknown>[];
  /** Every list request, in arrival order. */
  requests: SimRequest[];
  spentUsd(): number;
}

/** Fields OpenAlex accepts in `select` (from the recorded 400 answer). */
const VALID_SELECT = new Set(
  "id, doi, title, display_name, relevance_score, publication_year, publication_date, ids, language, primary_location, sources, type, type_crossref, indexed_in, open_access, authorships, institution_assertions, institutions, countries_distinct_count, institutions_distinct_count, corresponding_author_ids, corresponding_institution_ids, apc_list, apc_paid, fwci, is_authors_truncated, has_fulltext, fulltext_origin, cited_by_count, citation_normalized_percentile, cited_by_percentile_year, biblio, is_retracted, is_paratext, is_xpac, primary_topic, topics, keywords, concepts, mesh, locations_count, locations, best_oa_location, sustainable_development_goals, awards, funders, datasets, versions, has_content, content_urls, referenced_works_count, referenced_works, related_works, abstract_inverted_index, cited_by_api_url, counts_by_year, updated_date, created_date".split(
    ", ",
  ),
);

const EXPOSE =
  "Cache-Control, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Onetime-Remaining, X-RateLimit-Credits-Used, X-RateLimit-Credits-Required, X-RateLimit-Reset, X-RateLimit-Limit-USD, X-RateLimit-Remaining-USD, X-RateLimit-Prepaid-Remaining-USD, X-RateLimit-Cost-USD, X-RateLimit-Cost-Required-USD, Retry-After";

/** The DOI of simulated work `i` (what its artifact id is derived from). */
export function simWorkDoi(i: number): string {
  return `10.5555/sim.${i}`;
}

/** `n` works varied from the three recorded ones: new W ids, DOIs and PMIDs, the same shapes. */
export function simWorks(n: number): Record<string, unknown>[] {
  const page = fixtureJson("openalex-works-page.json") as { results: Record<string, unknown>[] };
  const templates = page.results.map((w) => JSON.stringify(w));
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const t = page.results[i % templates.length] as Record<string, unknown>;
    const w = String(t.id).replace("https://openalex.org/", "");
    const doi = String(t.doi).replace("https://doi.org/", "");
    let text = (templates[i % templates.length] as string)
      .replaceAll(w, `W${7_000_000_000 + i}`)
      .replaceAll(doi, simWorkDoi(i))
      .replaceAll(doi.toUpperCase(), simWorkDoi(i));
    text = text.replace(/pubmed\.ncbi\.nlm\.nih\.gov\/\d+/g, `pubmed.ncbi.nlm.nih.gov/${30_000_000 + i}`);
    out.push(JSON.parse(text));
  }
  return out;
}

const encodeCursor = (offset: number) => btoa(JSON.stringify([offset, "sim"]));
function decodeCursor(cursor: string): number | undefined {
  if (cursor === "*") return 0;
  try {
    const v = JSON.parse(atob(cursor));
    return Array.isArray(v) && Number.isInteger(v[0]) ? v[0] : undefined;
  } catch {
    return undefined;
  }
}

function secondsToUtcMidnight(): number {
  const now = new Date();
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.ceil((next - now.getTime()) / 1000);
}

export async function startOpenAlex(web: SimWeb, o: SimOpenAlexOptions = {}): Promise<SimOpenAlex> {
  const host = await web.host({ name: "openalex.api.test" });
  const works = simWorks(o.works ?? 1234);
  const requests: SimRequest[] = [];
  const budget = o.budgetUsd ?? 1;
  let spent = 0;
  let throttled = false;
  let refused = false;

  const budgetHeaders = (cost: number): Record<string, string> => ({
    "access-control-expose-headers": EXPOSE,
    "x-ratelimit-cost-usd": String(cost),
    "x-ratelimit-credits-used": String(Math.round(cost * 10_000)),
    "x-ratelimit-limit": String(Math.round(budget * 10_000)),
    "x-ratelimit-limit-usd": String(budget),
    "x-ratelimit-onetime-remaining": "0",
    "x-ratelimit-prepaid-remaining-usd": "0",
    "x-ratelimit-remaining": String(Math.max(0, Math.round((budget - spent) * 10_000))),
    "x-ratelimit-remaining-usd": String(Math.max(0, Math.round((budget - spent) * 1e6) / 1e6)),
    "x-ratelimit-reset": String(secondsToUtcMidnight()),
  });
  const json = (body: unknown, status: number, headers: Record<string, string> = {}) =>
    bytesResponse(utf8(JSON.stringify(body)), { "content-type": "application/json", ...headers }, status);

  host.route("/works", async (req) => {
    const params = new URL(req.url).searchParams;
    const cursor = params.get("cursor") ?? "*";
    const offset = decodeCursor(cursor);
    const perPage = Number(params.get("per-page") ?? params.get("per_page") ?? 25);
    const record: SimRequest = {
      at: performance.now(),
      cursor,
      offset: offset ?? -1,
      perPage,
      status: 200,
      params,
    };
    requests.push(record);
    o.onRequest?.(record);
    if (o.delayMs) await Bun.sleep(o.delayMs);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      return json(body, status, headers);
    };
    if (!params.get("api_key"))
      return answer(401, { error: "Invalid or missing API key", message: "API key not found" });
    const select = (params.get("select") ?? "").split(",").filter(Boolean);
    const bad = select.find((f) => !VALID_SELECT.has(f));
    if (bad)
      return answer(400, {
        error: "Invalid query parameters error.",
        message: `${bad} is not a valid select field.`,
      });
    if (offset === undefined || !Number.isInteger(perPage) || perPage < 1 || perPage > 200)
      return answer(400, { error: "Invalid query parameters error.", message: "bad cursor or per-page" });
    const page = Math.floor(offset / 200) + 1;
    if (o.throttle && !throttled && page === o.throttle.page) {
      throttled = true;
      record.retryAfterS = o.throttle.retryAfterS;
      return answer(
        429,
        { error: "Too Many Requests", message: "slow down" },
        { ...budgetHeaders(0), "retry-after": String(o.throttle.retryAfterS) },
      );
    }
    if (o.tooFast && !refused && page === o.tooFast.page) {
      refused = true;
      return answer(403, { error: "Forbidden", message: "Too many requests per second" }, budgetHeaders(0));
    }
    const cost = params.get("search") ? 0.001 : 0.0001;
    if (spent + cost > budget + 1e-9) {
      const reset = secondsToUtcMidnight();
      record.retryAfterS = reset;
      return answer(
        429,
        { error: "Rate limit exceeded", message: "daily budget spent" },
        { ...budgetHeaders(0), "retry-after": String(reset) },
      );
    }
    spent = Math.round((spent + cost) * 1e6) / 1e6;
    const slice = works.slice(offset, offset + perPage);
    const results = select.length
      ? slice.map((w) => Object.fromEntries(select.filter((f) => f in w).map((f) => [f, w[f]])))
      : slice;
    return answer(
      200,
      {
        meta: {
          count: works.length,
          db_response_time_ms: 21,
          page: null,
          per_page: perPage,
          next_cursor: results.length ? encodeCursor(offset + results.length) : null,
          groups_count: null,
          cost_usd: cost,
        },
        results,
        group_by: [],
      },
      budgetHeaders(cost),
    );
  });

  return { host, baseUrl: host.url(""), works, requests, spentUsd: () => spent };
}
