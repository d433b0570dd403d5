// The vocabulary of resolution: what a resolver needs from a work, the candidates it proposes and
// the identifiers it discovers along the way. Resolvers are pure mappings over these types; the
// plan (ask-resolvers.ts, scrape.ts) is the only place that performs I/O with them.
import type { ResolverName } from "../config/schema.ts";
import type { Reason } from "../core/reasons.ts";

/** The artifact fields resolution reads (structurally compatible with the full Artifact type). */
export interface ResolvableWork {
  id: string;
  doi?: string;
  pmid?: string;
  pmcid?: string;
  arxiv?: string;
  pdf_urls?: string[];
  landing_urls?: string[];
}

/** A PDF candidate is downloaded; a landing candidate is fetched as HTML and scraped for PDF links. */
export type CandidateKind = "pdf" | "landing";

/** Where a candidate came from, kept for the manifest (never holds credentials). */
export interface Provenance {
  /** published | accepted | submitted (normalized, see provenance.ts). */
  version?: string;
  /** Lowercased short name (cc-by, cc0, …) or the source's own term. */
  license?: string;
  /** The licence URL a source gave (Crossref, HAL, OpenAIRE). */
  license_url?: string;
  /** publisher | repository. */
  host_type?: string;
  /** gold | green | hybrid | bronze | diamond, when the source said so. */
  oa_status?: string;
  /** The repository, site or journal the location belongs to. */
  source?: string;
  /** The resolver or page that led to this candidate (e.g. "europepmc" for a derived PMCID, a landing URL). */
  via?: string;
  /** How a landing scrape found it: citation_pdf_url, link_alternate, anchor. */
  found_by?: string;
  /** For Wayback captures: the original URL and the capture timestamp. */
  original_url?: string;
  timestamp?: string;
  /** Crossref link attributes. */
  content_version?: string;
  intended_application?: string;
}

export interface CandidateSeed {
  url: string;
  kind: CandidateKind;
  provenance?: Provenance;
}

export interface Candidate extends CandidateSeed {
  resolver: ResolverName;
  tier: number;
  provenance: Provenance;
}

/** Identifiers a resolver found that the work did not carry (they feed `direct`). */
export interface DerivedIds {
  pmcid?: string;
  arxiv?: string;
  pmid?: string;
}

/** What one resolver's response maps to. */
export interface ResolverMapping {
  candidates: CandidateSeed[];
  derived: DerivedIds;
  /** When there are no candidates: why (closed work, empty result, malformed answer). */
  note?: string;
}

/** One metadata request a resolver needs (role metadata, through the shared HTTP client). */
export interface ResolverRequest {
  url: string;
  headers?: Record<string, string>;
  /** A search that takes a JSON body (figshare) is a POST; cached by method, URL and body. */
  method?: "GET" | "POST";
  body?: string;
  /** Statuses this service uses to say "slower" (HttpRequest.backPressure). */
  backPressure?: readonly number[];
}

/**
 * How asking a resolver ended. `settled` means asking again would give the same answer (found,
 * closed, unknown id, malformed); `unsettled` means it failed transiently and is asked again on retry.
 */
export type ResolverReason = Reason | "malformed";

export interface ResolverAnswer {
  state: "settled" | "unsettled";
  reason?: ResolverReason;
  note?: string;
  retryAt?: number;
  mapping: ResolverMapping;
}
