// The pure side of pulling works from OpenAlex (SPEC 15): what identifies a pull (its normalized
// filter and search), the URL of one cursor page, what a page says (count, next cursor, cost, works
// as artifacts) and what a pull is estimated to cost. No I/O here; src/openalex/pull.ts asks.
import type { Artifact } from "../artifact/artifact.ts";
import { artifactFromOpenAlex, isOpenAlexWork } from "../artifact/openalex.ts";

/** Works per page: the most OpenAlex serves, so a pull costs as few list requests as possible. */
export const PER_PAGE = 200;

/** The fields the OpenAlex input mapping reads (src/artifact/openalex.ts); nothing else is fetched. */
export const SELECT_FIELDS = [
  "id",
  "doi",
  "title",
  "publication_year",
  "ids",
  "open_access",
  "best_oa_location",
  "primary_location",
  "locations",
] as const;

/** OpenAlex answers 403 when a key goes too fast: back-pressure, not a refusal (RESOLVERS.md). */
export const OPENALEX_BACK_PRESSURE: readonly number[] = [403];

/** Published prices (RESOLVERS.md): a list request $0.10 per 1,000, one with `search=` $1 per 1,000. */
export const LIST_REQUEST_USD = 0.0001;
export const SEARCH_REQUEST_USD = 0.001;

/** What identifies a pull: filter and search, normalized so spelling differences are the same pull. */
export interface PullQuery {
  filter: string;
  search: string;
}

/**
 * `a:1, B:x|y ,a:1` → `a:1,b:x|y`: filters trimmed, keys lowercased, OR-alternatives and filters
 * sorted, duplicates dropped. Values keep their case (an institution id or a title word may care).
 */
export function normalizeFilter(filter: string): string {
  const parts = new Set<string>();
  for (const raw of filter.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const colon = item.indexOf(":");
    if (colon < 0) {
      parts.add(item.toLowerCase());
      continue;
    }
    const key = item.slice(0, colon).trim().toLowerCase();
    const values = item
      .slice(colon + 1)
      .split("|")
      .map((v) => v.trim())
      .filter(Boolean);
    parts.add(`${key}:${[...new Set(values)].sort().join("|")}`);
  }
  return [...parts].sort().join(",");
}

/** Whitespace collapsed; case kept, since boolean search operators (AND, OR, NOT) are upper case. */
export function normalizeSearch(search: string): string {
  return search.trim().replace(/\s+/g, " ");
}

export function pullQuery(filter: string | undefined, search: string | undefined): PullQuery {
  return { filter: normalizeFilter(filter ?? ""), search: normalizeSearch(search ?? "") };
}

/** A filter item without a colon is a mistake OpenAlex would answer with 400: say so first. */
export function filterProblem(filter: string): string | undefined {
  for (const item of filter.split(",")) {
    if (item === "") continue;
    const colon = item.indexOf(":");
    if (colon <= 0 || colon === item.length - 1)
      return `expected comma-separated key:value filters (e.g. publication_year:>2019,is_oa:true), got ${JSON.stringify(item)}`;
  }
  return undefined;
}

export interface PageRequest {
  baseUrl: string;
  query: PullQuery;
  cursor: string;
  perPage?: number;
  apiKey?: string;
  email?: string;
  /** Fields to select (default SELECT_FIELDS). */
  select?: readonly string[];
}

/** The URL of one cursor page of `/works`. */
export function pageUrl(r: PageRequest): string {
  const url = new URL(`${r.baseUrl.replace(/\/+$/, "")}/works`);
  const p = url.searchParams;
  if (r.query.filter) p.set("filter", r.query.filter);
  if (r.query.search) p.set("search", r.query.search);
  p.set("per-page", String(r.perPage ?? PER_PAGE));
  p.set("cursor", r.cursor);
  p.set("select", (r.select ?? SELECT_FIELDS).join(","));
  if (r.email) p.set("mailto", r.email);
  if (r.apiKey) p.set("api_key", r.apiKey);
  return url.href;
}

export interface WorksPage {
  /** meta.count: how many works the query matches now. */
  count: number;
  /** meta.next_cursor; null at the end. */
  nextCursor: string | null;
  /** meta.cost_usd when OpenAlex said it. */
  costUsd?: number;
  works: Artifact[];
  /** Records that are not works or carry nothing to resolve. */
  invalid: number;
}

export class PageShapeError extends Error {
  override name = "PageShapeError";
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === "object" && !Array.isArray(x);

/** The parts of a `/works` page docstokg uses; throws PageShapeError when it is not one. */
export function parseWorksPage(body: unknown, priority?: number): WorksPage {
  if (!isObject(body) || !isObject(body.meta) || !Array.isArray(body.results))
    throw new PageShapeError("expected an OpenAlex list page ({meta, results})");
  const meta = body.meta;
  const count = typeof meta.count === "number" && meta.count >= 0 ? meta.count : 0;
  const next = meta.next_cursor;
  const cost = meta.cost_usd;
  const works: Artifact[] = [];
  let invalid = 0;
  for (const record of body.results) {
    if (!isObject(record) || !isOpenAlexWork(record)) {
      invalid++;
      continue;
    }
    const parsed = artifactFromOpenAlex(record);
    if (!parsed.ok) {
      invalid++;
      continue;
    }
    if (priority !== undefined) parsed.value.priority = priority;
    works.push(parsed.value);
  }
  return {
    count,
    nextCursor: typeof next === "string" && next !== "" ? next : null,
    costUsd: typeof cost === "number" && Number.isFinite(cost) && cost >= 0 ? cost : undefined,
    works,
    invalid,
  };
}

/** The cost of one page: what OpenAlex last said a page cost, else the published price. */
export function pageCostUsd(query: PullQuery, observed?: number): number {
  if (observed !== undefined) return observed;
  return query.search ? SEARCH_REQUEST_USD : LIST_REQUEST_USD;
}

export interface PullEstimate {
  count: number;
  /** Pages of PER_PAGE works, plus the empty page that ends a cursor walk. */
  pages: number;
  costUsd: number;
}

/** Pages and cost of reading `count` works (of which `done` are read already). */
export function estimatePull(count: number, query: PullQuery, done = 0, observedCost?: number): PullEstimate {
  const left = Math.max(0, count - done);
  const pages = Math.ceil(left / PER_PAGE) + 1;
  return { count, pages, costUsd: roundUsd(pages * pageCostUsd(query, observedCost)) };
}

/** Money to a tenth of a cent's hundredth: page costs are $0.0001 steps. */
export function roundUsd(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** What the response headers announce about the key's budget (header names as OpenAlex sends them). */
export interface BudgetHeaders {
  costUsd?: number;
  remainingUsd?: number;
  limitUsd?: number;
  remaining?: number;
  /** Seconds until the budget resets. */
  resetS?: number;
}

function numberHeader(headers: Headers, name: string): number | undefined {
  const v = headers.get(name);
  if (v === null || v.trim() === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export function budgetHeaders(headers: Headers): BudgetHeaders {
  const out: BudgetHeaders = {
    costUsd: numberHeader(headers, "x-ratelimit-cost-usd"),
    remainingUsd: numberHeader(headers, "x-ratelimit-remaining-usd"),
    limitUsd: numberHeader(headers, "x-ratelimit-limit-usd"),
    remaining: numberHeader(headers, "x-ratelimit-remaining"),
    resetS: numberHeader(headers, "x-ratelimit-reset"),
  };
  for (const k of Object.keys(out) as (keyof BudgetHeaders)[]) if (out[k] === undefined) delete out[k];
  return out;
}
