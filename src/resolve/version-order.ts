// The order a tier's candidates are tried in: PDFs before landing pages, and with
// `resolvers.prefer_version` other than `any`, the preferred version first, then the other known
// versions (published, accepted, submitted), then candidates no source gave a version for.
// Pure, so the ordering is testable without a plan.
import type { PreferVersion } from "../config/schema.ts";
import { normalizeVersion, VERSIONS } from "./provenance.ts";

interface Queued {
  kind: "pdf" | "landing";
  provenance?: { version?: string };
}

/** Rank of a candidate's version under a preference: lower is tried first. */
export function versionRank(version: string | undefined, prefer: PreferVersion): number {
  if (prefer === "any") return 0;
  const v = normalizeVersion(version);
  if (v === undefined) return VERSIONS.length + 1;
  if (v === prefer) return 0;
  return 1 + VERSIONS.indexOf(v);
}

/**
 * Index of the candidate to try next, or -1 for an empty queue: the first PDF (else the first
 * landing page) of the best version rank; arrival order breaks ties.
 */
export function nextIndex(queue: readonly Queued[], prefer: PreferVersion): number {
  let best = -1;
  let bestRank = Number.POSITIVE_INFINITY;
  for (let i = 0; i < queue.length; i++) {
    const c = queue[i] as Queued;
    const rank = (c.kind === "pdf" ? 0 : 100) + versionRank(c.provenance?.version, prefer);
    if (rank < bestRank) {
      best = i;
      bestRank = rank;
    }
  }
  return best;
}
