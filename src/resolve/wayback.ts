// `wayback`: the availability API for a failed candidate or landing URL → the closest capture when
// `available` and `status` is the string "200"; the capture is fetched in its `id_` form, which
// replays the original bytes instead of a rewritten page.
import type { ResolverSettings } from "./resolver.ts";
import { expectObject, isObject, text, trimSlash } from "./shape.ts";
import type { CandidateKind, ResolverMapping, ResolverRequest } from "./types.ts";

export function waybackRequest(url: string, settings: ResolverSettings): ResolverRequest {
  return {
    url: `${trimSlash(settings.resolvers.wayback.base_url)}/wayback/available?url=${encodeURIComponent(url)}`,
  };
}

/** The capture of `original` (asked as `kind`), or a note why there is none. */
export function mapWayback(
  body: unknown,
  original: string,
  kind: CandidateKind,
  settings: ResolverSettings,
): ResolverMapping {
  const r = expectObject(body, "the Wayback availability answer");
  const snapshots = expectObject(r.archived_snapshots ?? {}, "Wayback `archived_snapshots`");
  const closest = isObject(snapshots.closest) ? snapshots.closest : undefined;
  if (!closest) return { candidates: [], derived: {}, note: "not archived" };
  const timestamp = text(closest.timestamp);
  if (
    closest.available !== true ||
    text(closest.status) !== "200" ||
    !timestamp ||
    !/^\d{1,14}$/.test(timestamp)
  )
    return { candidates: [], derived: {}, note: `no usable capture (status ${String(closest.status)})` };
  // closest.url names the archived original (scheme may differ from the query); prefer it.
  const archived = /\/web\/\d+[a-z_]*\/(https?:\/\/.+)$/.exec(text(closest.url) ?? "")?.[1] ?? original;
  const url = `${trimSlash(settings.resolvers.wayback.capture_base_url)}/web/${timestamp}id_/${archived}`;
  return { candidates: [{ url, kind, provenance: { original_url: original, timestamp } }], derived: {} };
}
