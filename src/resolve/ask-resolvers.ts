// Asking resolvers, one part of the tier plan: a resolver settled in an earlier attempt is not asked
// again, a static one gives its seeds, an API is asked under its process-wide slot and daily quota
// and its answer mapped to candidates; identifiers it found feed `direct`. The archive (Wayback) is
// asked about URLs that failed. Each answer is recorded in the plan's progress.
import type { ResolverName } from "../config/schema.ts";
import { isTransient } from "../core/reasons.ts";
import { redactText } from "../core/redact.ts";
import type { Span } from "../telemetry/tracing.ts";
import { discard, readBounded } from "./body.ts";
import { idCandidates } from "./direct.ts";
import { type AddSeeds, enabled, hostOf, type PlanState } from "./plan-state.ts";
import type { CandidateRecord, ResolverRecord } from "./progress.ts";
import { RESOLVERS } from "./registry.ts";
import { isSkip } from "./resolver.ts";
import { MalformedResponse } from "./shape.ts";
import type { DerivedIds, ResolverAnswer, ResolverMapping, ResolverRequest } from "./types.ts";
import { mapWayback, waybackRequest } from "./wayback.ts";

const METADATA_MAX_BYTES = 8 * 1024 * 1024;

export async function askResolver(
  s: PlanState,
  name: Exclude<ResolverName, "wayback">,
  addSeeds: AddSeeds,
): Promise<void> {
  const previous = s.progress.resolvers[name];
  if (previous?.state === "settled") {
    // Asked before: its candidates are in the progress; derived ids may still feed `direct`.
    return;
  }
  const resolver = RESOLVERS[name];
  if (resolver.kind === "static") {
    const found = addSeeds(name, resolver.seeds(s.ids, s.deps.settings));
    s.progress.resolvers[name] = { state: "settled", found };
    return;
  }
  const req = resolver.request(s.ids, s.deps.settings);
  if (isSkip(req)) {
    s.progress.resolvers[name] = { state: "skipped", note: req.skip, found: 0 };
    return;
  }
  const spent = await quotaSpent(s, name);
  if (spent) {
    s.progress.resolvers[name] = spent;
    return;
  }
  const answer = await fetchJson(s, name, req, (body) => resolver.map(body, s.ids));
  if (!answer) return; // aborted: the job is over, nothing learned
  const found = addSeeds(name, answer.mapping.candidates);
  const fromIds = learn(s, answer.mapping.derived, name, addSeeds);
  s.progress.resolvers[name] = record(answer, found + fromIds);
}

/** Merge identifiers a resolver found; new arXiv ids/PMCIDs become `direct` candidates. */
function learn(s: PlanState, derived: DerivedIds, via: ResolverName, addSeeds: AddSeeds): number {
  const fresh: DerivedIds = {};
  for (const k of ["pmcid", "arxiv", "pmid"] as const) {
    const value = derived[k];
    if (value && !s.ids[k]) {
      fresh[k] = value;
      s.ids = { ...s.ids, [k]: value };
      s.progress.derived[k] = value;
    }
  }
  if (!enabled(s.config, "direct") || (!fresh.arxiv && !fresh.pmcid)) return 0;
  return addSeeds("direct", idCandidates(fresh, s.deps.settings, via));
}

/**
 * The record of a resolver whose daily quota is spent: under `wait` it is unsettled until the reset
 * (a job with nothing else wrong goes back to the queue until then, without an attempt counted, as
 * for any politeness wait); under `skip` the job goes on without it.
 */
async function quotaSpent(s: PlanState, name: ResolverName): Promise<ResolverRecord | undefined> {
  const verdict = await s.deps.quota?.check(name);
  if (!verdict || verdict.ok) return undefined;
  if (verdict.whenExhausted === "skip")
    return { state: "skipped", note: `${verdict.why} (when_exhausted = skip)`, found: 0 };
  return {
    state: "unsettled",
    reason: "rate_limited",
    note: verdict.why,
    retryAt: verdict.until,
    found: 0,
  };
}

export async function askWayback(s: PlanState, addSeeds: AddSeeds): Promise<void> {
  // The archive's lookups are counted under `wayback`; its quota is checked once per job.
  const spent = await quotaSpent(s, "wayback");
  if (spent) {
    s.progress.resolvers.wayback = spent;
    return;
  }
  delete s.progress.resolvers.wayback;
  const max = s.config.resolvers.wayback.max_lookups;
  // Failed PDFs first (the archive may hold the very file), then dead landing pages, then pages
  // that were scraped without success.
  const rank = (r: CandidateRecord) =>
    r.kind === "pdf" && r.state === "failed" ? 0 : r.state === "failed" ? 1 : r.state === "scraped" ? 2 : -1;
  // A URL our own gate refused (private address, credentials) is never sent to the archive.
  const inputs = s.progress.candidates
    .filter((r) => r.resolver !== "wayback" && r.reason !== "url_refused" && rank(r) >= 0)
    .sort((a, b) => rank(a) - rank(b))
    .map((r) => ({ url: r.url, kind: r.kind }));
  await Promise.all(
    inputs.slice(0, max).map(async ({ url, kind }) => {
      const key = `wayback ${url}`;
      if (s.progress.resolvers[key]?.state === "settled") return;
      const answer = await fetchJson(s, "wayback", waybackRequest(url, s.deps.settings), (body) =>
        mapWayback(body, url, kind, s.deps.settings),
      );
      if (!answer) return;
      const found = addSeeds("wayback", answer.mapping.candidates);
      s.progress.resolvers[key] = record(answer, found);
    }),
  );
}

/** `requestJson` in a `resolver <name>` span: host, status, bytes, reason, candidates found. */
async function fetchJson(
  s: PlanState,
  name: ResolverName,
  req: ResolverRequest,
  map: (body: unknown) => ResolverMapping,
): Promise<ResolverAnswer | undefined> {
  const span = s.tracer.startSpan(`resolver ${name}`, {
    parent: s.tierSpan,
    kind: "client",
    attributes: { resolver: name, host: hostOf(req.url) },
  });
  let answer: ResolverAnswer | undefined;
  try {
    answer = await requestJson(s, name, req, map, span);
    return answer;
  } finally {
    if (!answer) span.set({ reason: "cancelled" });
    else {
      span.set({ reason: answer.reason ?? "ok", found: answer.mapping.candidates.length });
      if (answer.reason) span.fail(answer.reason);
    }
    span.end();
  }
}

/** Ask a metadata API and map its answer; undefined when the job was aborted meanwhile. */
async function requestJson(
  s: PlanState,
  name: ResolverName,
  req: ResolverRequest,
  map: (body: unknown) => ResolverMapping,
  span: Span,
): Promise<ResolverAnswer | undefined> {
  const signal = s.abort.signal;
  try {
    // The resolver's concurrency limit is the politeness gate's (one slot per request in flight).
    const res = await s.deps.http.request({
      url: req.url,
      method: req.method,
      body: req.body,
      role: "metadata",
      resolver: name,
      headers: { accept: "application/json", ...req.headers },
      signal,
      ...(req.backPressure ? { backPressure: req.backPressure } : {}),
    });
    // A request that went out counts against the resolver's quota (a cache hit or a refusal by
    // this process's limiter sent nothing).
    if (res.ok ? !res.response.fromCache : res.status !== undefined)
      s.deps.quota?.record(
        name,
        res.ok ? { status: res.response.status, headers: res.response.headers } : { status: res.status },
      );
    span.set({ status: res.ok ? res.response.status : res.status });
    if (signal.aborted) {
      if (res.ok) await discard(res.response);
      return undefined;
    }
    if (!res.ok) {
      const state = isTransient(res.reason) ? "unsettled" : "settled";
      return {
        state,
        reason: res.reason,
        note: redactText(res.message),
        retryAt: res.retryAt,
        mapping: { candidates: [], derived: {} },
      };
    }
    const body = await readBounded(res.response, METADATA_MAX_BYTES);
    span.set({ bytes: body.bytes.length });
    if (body.truncated) return malformed(`answer larger than ${METADATA_MAX_BYTES} bytes`);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(body.bytes));
    } catch {
      return malformed("answer is not JSON");
    }
    const mapping = map(json);
    return { state: "settled", mapping, note: mapping.note };
  } catch (e) {
    if (signal.aborted) return undefined;
    if (e instanceof MalformedResponse) return malformed(e.message);
    return {
      state: "unsettled",
      reason: "conn_error",
      note: redactText(e instanceof Error ? e.message : String(e)),
      mapping: { candidates: [], derived: {} },
    };
  }
}

function record(answer: ResolverAnswer, found: number): ResolverRecord {
  const r: ResolverRecord = { state: answer.state, found };
  if (answer.reason) r.reason = answer.reason;
  if (answer.note) r.note = answer.note;
  if (answer.retryAt !== undefined) r.retryAt = answer.retryAt;
  return r;
}

function malformed(note: string): ResolverAnswer {
  return { state: "settled", reason: "malformed", note, mapping: { candidates: [], derived: {} } };
}
