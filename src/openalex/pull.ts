// Running an OpenAlex pull (SPEC 15): cursor pages asked through the one polite HTTP client (429 /
// Retry-After and 403 "too fast" cool the host down, shared in the database), each page's jobs
// committed with the cursor after it (src/store/pulls.ts), stopping before --max, the spending cap
// or an exhausted daily budget. A kill at any point loses at most the page in flight.
import type { Database } from "bun:sqlite";
import type { Config } from "../config/schema.ts";
import { isTransient } from "../core/reasons.ts";
import { redactText } from "../core/redact.ts";
import type { HttpClient, HttpResponse } from "../net/types.ts";
import type { QuotaGate } from "../quota/gate.ts";
import { discard, readBounded } from "../resolve/body.ts";
import { type PullRow, type PullStore, sqlitePullStore } from "../store/pulls.ts";
import {
  type BudgetHeaders,
  budgetHeaders,
  estimatePull,
  OPENALEX_BACK_PRESSURE,
  PageShapeError,
  PER_PAGE,
  type PullEstimate,
  type PullQuery,
  pageCostUsd,
  pageUrl,
  parseWorksPage,
  roundUsd,
} from "./query.ts";

const PAGE_MAX_BYTES = 64 * 1024 * 1024;

export interface PullDeps {
  /** Where pulls are kept (SQLite or PostgreSQL); or `db`, a SQLite state database. */
  pulls?: PullStore;
  db?: Database;
  http: HttpClient;
  config: {
    politeness: Pick<Config["politeness"], "retry_after_cap_s">;
    resolvers: Pick<Config["resolvers"], "openalex">;
  };
  apiKey?: string;
  email?: string;
  now: () => number;
  signal?: AbortSignal;
  /** Once the pull is known (not for a pull that is already complete). */
  onStart?: (pull: PullRow) => void;
  /** After each committed page. */
  onPage?: (p: PageProgress) => void;
  /** The `openalex` quota: checked before each page, every answer counted (with its cost). */
  quota?: QuotaGate;
}

export interface PullOptions {
  query: PullQuery;
  /** Works this run takes at most (the pull goes on in a later run). */
  max?: number;
  priority?: number;
}

export interface RunCounts {
  pages: number;
  works: number;
  queued: number;
  costUsd: number;
}

export interface PageProgress {
  pull: PullRow;
  run: RunCounts;
}

export type PullEnd =
  /** Every page is committed; `already` when it was so before this run. */
  | { end: "complete"; already: boolean }
  | { end: "max" }
  /** The next page would cost more than `resolvers.openalex.max_cost_usd` leaves. */
  | { end: "cost_cap"; capUsd: number; nextCostUsd: number }
  /** OpenAlex announced the key's budget spent; it resets at `resetAt` when it said. */
  | { end: "budget"; resetAt?: number; why?: string }
  | { end: "interrupted" }
  /** Worth running again later (a host that kept saying wait, a network failure). */
  | { end: "stopped"; message: string; retryAt?: number }
  /** OpenAlex refused the query itself (bad key, bad filter): the pull is marked failed. */
  | { end: "failed"; message: string }
  /** Another process committed the page this one asked for. */
  | { end: "moved" };

export type PullResult = PullEnd & { pull: PullRow; run: RunCounts };

export function httpFailureMessage(r: { reason: string; status?: number; message: string }): string {
  const what =
    r.status === 401
      ? "OpenAlex refused the API key (HTTP 401); set resolvers.openalex.api_key or OPENALEX_API_KEY"
      : r.status === 400
        ? "OpenAlex rejected the query (HTTP 400); check --filter and --search"
        : `OpenAlex answered ${r.status !== undefined ? `HTTP ${r.status}` : r.reason}`;
  return `${what}: ${redactText(r.message)}`;
}

async function readJson(res: HttpResponse): Promise<unknown> {
  const body = await readBounded(res, PAGE_MAX_BYTES);
  if (body.truncated) throw new PageShapeError(`page larger than ${PAGE_MAX_BYTES} bytes`);
  try {
    return JSON.parse(new TextDecoder().decode(body.bytes));
  } catch {
    throw new PageShapeError("page is not JSON");
  }
}

/** The request of one page: uncached (cursors are single-use), 403 as back-pressure, waits as long as a Retry-After may ask. */
function pageRequest(deps: PullDeps, url: string) {
  return {
    url,
    role: "metadata" as const,
    resolver: "openalex",
    headers: { accept: "application/json" },
    cache: false,
    backPressure: OPENALEX_BACK_PRESSURE,
    signal: deps.signal,
    maxWaitMs: deps.config.politeness.retry_after_cap_s * 1000,
  };
}

/** Whether the announced budget cannot pay for the next page. */
function budgetSpent(b: BudgetHeaders, nextCost: number): boolean {
  if (b.remainingUsd !== undefined && b.remainingUsd < nextCost) return true;
  return b.remaining !== undefined && b.remaining <= 0;
}

export async function runPull(deps: PullDeps, o: PullOptions): Promise<PullResult> {
  const { config, now } = deps;
  const db = pullStore(deps);
  const run: RunCounts = { pages: 0, works: 0, queued: 0, costUsd: 0 };
  let pull = await db.start(o.query.filter, o.query.search, now());
  const result = (end: PullEnd): PullResult => ({ ...end, pull, run });
  if (pull.state === "done") return result({ end: "complete", already: true });
  deps.onStart?.(pull);
  const capUsd = config.resolvers.openalex.max_cost_usd;
  let budget: BudgetHeaders = {};
  let budgetAt = 0;
  for (;;) {
    if (deps.signal?.aborted) return result({ end: "interrupted" });
    if (o.max !== undefined && run.works >= o.max) return result({ end: "max" });
    const cursor = pull.cursor;
    if (cursor === null) return result({ end: "complete", already: false });
    const nextCost = pageCostUsd(o.query, pull.page_cost_usd ?? undefined);
    if (capUsd !== undefined && pull.cost_usd + nextCost > capUsd + 1e-9)
      return result({ end: "cost_cap", capUsd, nextCostUsd: nextCost });
    if (budgetSpent(budget, nextCost))
      return result({
        end: "budget",
        resetAt: budget.resetS !== undefined ? budgetAt + budget.resetS * 1000 : undefined,
      });
    // The day's quota as every process on this database counted it (daily_limit, announced budget).
    const quota = await deps.quota?.check("openalex");
    if (quota && !quota.ok) return result({ end: "budget", resetAt: quota.until, why: quota.why });
    const perPage = o.max === undefined ? PER_PAGE : Math.min(PER_PAGE, o.max - run.works);
    const url = pageUrl({
      baseUrl: config.resolvers.openalex.base_url,
      query: o.query,
      cursor,
      perPage,
      apiKey: deps.apiKey,
      email: deps.email,
    });
    const res = await deps.http.request(pageRequest(deps, url));
    if (!res.ok) {
      if (res.status !== undefined) deps.quota?.record("openalex", { status: res.status, costUsd: 0 });
      if (res.reason === "cancelled" || deps.signal?.aborted) return result({ end: "interrupted" });
      const message = httpFailureMessage(res);
      if (!isTransient(res.reason)) {
        pull = await failedPull(db, pull, message, now());
        return result({ end: "failed", message });
      }
      return result({ end: "stopped", message, retryAt: res.retryAt });
    }
    budget = budgetHeaders(res.response.headers);
    budgetAt = now();
    let page: ReturnType<typeof parseWorksPage>;
    try {
      page = parseWorksPage(await readJson(res.response), o.priority);
    } catch (e) {
      await discard(res.response);
      if (deps.signal?.aborted) return result({ end: "interrupted" });
      const message = `OpenAlex page unusable: ${e instanceof Error ? redactText(e.message) : String(e)}`;
      return result({ end: "stopped", message });
    }
    const costUsd = budget.costUsd ?? page.costUsd ?? nextCost;
    deps.quota?.record("openalex", { status: res.response.status, headers: res.response.headers, costUsd });
    // An empty page ends the walk whatever cursor it carries (a cursor past the end loops on itself).
    const records = page.works.length + page.invalid;
    const nextCursor = records === 0 ? null : page.nextCursor;
    let added: number;
    try {
      added = await db.commitPage({
        pullId: pull.id,
        cursor,
        nextCursor,
        works: page.works,
        invalid: page.invalid,
        count: page.count,
        costUsd,
        now: now(),
      });
    } catch (e) {
      if ((e as Error).name === "PullMovedError") {
        pull = (await db.find(pull.filter, pull.search)) ?? pull;
        return result({ end: "moved" });
      }
      throw e;
    }
    run.pages++;
    run.works += records;
    run.queued += added;
    run.costUsd = roundUsd(run.costUsd + costUsd);
    pull = (await db.find(pull.filter, pull.search)) ?? pull;
    deps.onPage?.({ pull, run });
  }
}

async function failedPull(db: PullStore, pull: PullRow, message: string, now: number): Promise<PullRow> {
  await db.fail(pull.id, message, now);
  return (await db.find(pull.filter, pull.search)) ?? pull;
}

function pullStore(deps: PullDeps): PullStore {
  if (deps.pulls) return deps.pulls;
  if (!deps.db) throw new TypeError("PullDeps: expected pulls or db");
  return sqlitePullStore(deps.db);
}

/** A dry run could not ask OpenAlex; `transient` when asking again later may work. */
export class OpenAlexRequestError extends Error {
  override name = "OpenAlexRequestError";
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

export interface DryRun {
  estimate: PullEstimate;
  /** The pull of this query when one exists (what is left is estimated from where it stands). */
  pull: PullRow | null;
  /** What the counting request itself cost. */
  costUsd: number;
}

/** Ask OpenAlex how many works the query matches (one one-record page) and estimate the pull. */
export async function dryRunPull(deps: PullDeps, query: PullQuery): Promise<DryRun> {
  const url = pageUrl({
    baseUrl: deps.config.resolvers.openalex.base_url,
    query,
    cursor: "*",
    perPage: 1,
    select: ["id"],
    apiKey: deps.apiKey,
    email: deps.email,
  });
  const pull = await pullStore(deps).find(query.filter, query.search);
  const res = await deps.http.request(pageRequest(deps, url));
  if (!res.ok) {
    if (res.status !== undefined) deps.quota?.record("openalex", { status: res.status, costUsd: 0 });
    throw new OpenAlexRequestError(httpFailureMessage(res), isTransient(res.reason));
  }
  const budget = budgetHeaders(res.response.headers);
  const page = parseWorksPage(await readJson(res.response));
  const costUsd = budget.costUsd ?? page.costUsd ?? pageCostUsd(query);
  deps.quota?.record("openalex", { status: res.response.status, headers: res.response.headers, costUsd });
  const estimate =
    pull?.state === "done"
      ? { count: page.count, pages: 0, costUsd: 0 }
      : estimatePull(page.count, query, pull?.works ?? 0, pull?.page_cost_usd ?? undefined);
  return { estimate, pull, costUsd };
}
