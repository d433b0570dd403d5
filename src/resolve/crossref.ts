// `crossref`: GET /works/<doi> → message.link[] PDFs (version of record first, `unspecified`
// content type last since it is sometimes the full text), skipping TDM text/xml and text/plain links
// that need tokens; message.resource.primary.URL is the landing candidate.
import { normalizeLicense, normalizeVersion } from "./provenance.ts";
import type { ApiResolver } from "./resolver.ts";
import {
  compact,
  DOT_SEGMENT_SKIP,
  expectObject,
  httpUrl,
  identifierPath,
  isObject,
  objects,
  text,
  trimSlash,
  uniqueSeeds,
} from "./shape.ts";
import type { CandidateSeed, ResolverMapping } from "./types.ts";

export const crossref: ApiResolver = {
  name: "crossref",
  kind: "api",
  request(work, settings) {
    if (!work.doi) return { skip: "no DOI" };
    const path = identifierPath(work.doi, "encode");
    if (path === null) return { skip: DOT_SEGMENT_SKIP };
    const base = trimSlash(settings.resolvers.crossref.base_url);
    const mailto = settings.email ? `?mailto=${encodeURIComponent(settings.email)}` : "";
    return { url: `${base}/works/${path}${mailto}` };
  },
  map(body): ResolverMapping {
    const message = expectObject(expectObject(body, "the Crossref answer").message, "Crossref `message`");
    const licenseFor = licenses(message.license);
    const ranked: { seed: CandidateSeed; rank: number }[] = [];
    for (const link of objects(message.link)) {
      const url = httpUrl(link.URL);
      const type = text(link["content-type"])?.toLowerCase();
      if (!url || !type) continue;
      const isPdf = type === "application/pdf";
      if (!isPdf && type !== "unspecified") continue;
      const version = text(link["content-version"]);
      const rank = (isPdf ? 0 : 2) + (version === "vor" ? 0 : 1);
      // Links are the publisher's own (Crossref metadata is deposited by publishers).
      const provenance = compact({
        ...licenseFor(version),
        version: normalizeVersion(version),
        host_type: "publisher",
        content_version: version,
        intended_application: text(link["intended-application"]),
      });
      ranked.push({ seed: { url, kind: "pdf", provenance }, rank });
    }
    // A stable sort keeps Crossref's order among equals.
    const candidates = uniqueSeeds(ranked.sort((a, b) => a.rank - b.rank).map((r) => r.seed));
    const primary =
      isObject(message.resource) && isObject(message.resource.primary) ? message.resource.primary : {};
    const landing = httpUrl(primary.URL);
    if (landing)
      candidates.push({
        url: landing,
        kind: "landing",
        provenance: { ...licenseFor("vor"), host_type: "publisher" },
      });
    return { candidates, derived: {}, note: candidates.length ? undefined : "no full-text link" };
  },
};

/**
 * The licence that applies to a link's content version: `message.license[]` entries carry a URL and
 * the version they cover (`vor`, `am`, `tdm`, `unspecified`); the URL maps to a short name where
 * recognizable (provenance.ts) and is kept as `license_url`.
 */
function licenses(
  list: unknown,
): (version: string | undefined) => { license?: string; license_url?: string } {
  const byVersion = new Map<string, string>();
  for (const l of objects(list)) {
    const url = text(l.URL);
    const v = text(l["content-version"]) ?? "unspecified";
    if (url && !byVersion.has(v)) byVersion.set(v, url);
  }
  return (version) => {
    const url = (version && byVersion.get(version)) ?? byVersion.get("unspecified");
    return url ? normalizeLicense(url) : {};
  };
}
