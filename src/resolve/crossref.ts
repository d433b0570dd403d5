// `crossref`: GET /works/<doi> → message.link[] PDFs (version of record first, `unspecified`
// content type last since it is sometimes the full text), skipping TDM text/xml and text/plain links
// that need tokens; message.resource.primary.URL is the landing candidate.
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
    const ranked: { seed: CandidateSeed; rank: number }[] = [];
    for (const link of objects(message.link)) {
      const url = httpUrl(link.URL);
      const type = text(link["content-type"])?.toLowerCase();
      if (!url || !type) continue;
      const isPdf = type === "application/pdf";
      if (!isPdf && type !== "unspecified") continue;
      const version = text(link["content-version"]);
      const rank = (isPdf ? 0 : 2) + (version === "vor" ? 0 : 1);
      const provenance = compact({
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
    if (landing) candidates.push({ url: landing, kind: "landing", provenance: {} });
    return { candidates, derived: {}, note: candidates.length ? undefined : "no full-text link" };
  },
};
