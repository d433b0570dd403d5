// The plan's memory, persisted as plain JSON with the job (`jobs.progress`): which resolvers were
// asked and whether their answer is settled, every candidate and what it yielded, and identifiers
// found on the way. A retry loads it and continues: settled resolvers are not asked again and
// permanently failed candidates are not tried again.
import type { ResolverName } from "../config/schema.ts";
import type { Reason } from "../core/reasons.ts";
import { canonicalUrl } from "../core/url.ts";
import type { Candidate, DerivedIds, ResolverReason } from "./types.ts";

export interface ResolverRecord {
  /** settled: the answer would not change; unsettled: failed transiently; skipped: not applicable. */
  state: "settled" | "unsettled" | "skipped";
  reason?: ResolverReason;
  note?: string;
  /** Candidates this resolver contributed. */
  found: number;
  retryAt?: number;
}

export type CandidateState = "pending" | "ok" | "failed" | "scraped";

export interface CandidateRecord extends Candidate {
  /** Dedupe key: the canonical URL. */
  key: string;
  state: CandidateState;
  reason?: Reason;
  message?: string;
  transient?: boolean;
  retryAt?: number;
  /** 1 for links found by scraping an HTML page met while downloading (never scraped again). */
  depth: number;
  /** Final URL of a fetched landing page (after redirects). */
  final_url?: string;
  /** 429/503 answers met so far, over all attempts (`download.retries` bounds them). */
  slow_downs?: number;
}

export interface PlanProgress {
  version: 1;
  /** Keyed by resolver name; Wayback lookups as `wayback <url>`. */
  resolvers: Record<string, ResolverRecord>;
  candidates: CandidateRecord[];
  derived: DerivedIds;
}

/** Records beyond this many are not kept: the persisted progress stays small whatever a page holds. */
export const MAX_CANDIDATE_RECORDS = 200;

export function emptyProgress(): PlanProgress {
  return { version: 1, resolvers: {}, candidates: [], derived: {} };
}

/**
 * Load persisted progress for a new attempt: transient candidate failures become pending again,
 * unsettled resolvers will be asked again. Anything unreadable starts afresh rather than failing.
 */
export function resumeProgress(saved: unknown): PlanProgress {
  if (typeof saved === "string") {
    try {
      return resumeProgress(JSON.parse(saved));
    } catch {
      return emptyProgress();
    }
  }
  const p = saved as Partial<PlanProgress> | null;
  if (p?.version !== 1 || !Array.isArray(p.candidates) || typeof p.resolvers !== "object")
    return emptyProgress();
  const candidates = p.candidates.map((c) =>
    c.state === "failed" && c.transient
      ? {
          ...c,
          state: "pending" as const,
          reason: undefined,
          message: undefined,
          transient: undefined,
          retryAt: undefined,
        }
      : c.state === "ok"
        ? { ...c, state: "pending" as const }
        : c,
  );
  return { version: 1, resolvers: { ...p.resolvers }, candidates, derived: { ...(p.derived ?? {}) } };
}

/**
 * The dedupe key of a URL: its canonical form without the scheme (APIs hand out http:// and
 * https:// spellings of one file, and trying both costs a host's patience for nothing); arXiv's
 * `/pdf/<id>.pdf` and `/pdf/<id>` are one, and so are Europe PMC's `pmc123` and `PMC123` renders.
 */
export function candidateKey(url: string): string {
  const c = canonicalUrl(url) ?? url;
  return c
    .replace(/^https?:/i, "")
    .replace(/^(\/\/(?:export\.)?arxiv\.org\/pdf\/.+?)\.pdf$/i, "$1")
    .replace(/^(\/\/(?:www\.)?europepmc\.org\/articles\/)pmc(\d)/i, "$1PMC$2");
}

export type { ResolverName };
