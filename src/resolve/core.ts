// `core`: CORE API v3 search by DOI (GET /search/works?q=doi:"<doi>", `Authorization: Bearer <key>`;
// off without CORE_API_KEY) → each matching work's `downloadUrl`, its `download` link and full-text
// URLs ending in .pdf (`sourceFulltextUrls`; `fullTextLinks` / `pdfDownloadLink` of older answers).
import { provenanceOf } from "./provenance.ts";
import type { ApiResolver } from "./resolver.ts";
import {
  compact,
  expectObject,
  httpUrl,
  objects,
  pdfPath,
  quotedDoi,
  text,
  trimSlash,
  uniqueSeeds,
} from "./shape.ts";
import type { CandidateSeed, ResolverMapping } from "./types.ts";

export const core: ApiResolver = {
  name: "core",
  kind: "api",
  request(work, settings) {
    if (!work.doi) return { skip: "no DOI" };
    if (!settings.coreApiKey) return { skip: "no CORE API key (set CORE_API_KEY)" };
    const base = trimSlash(settings.resolvers.core.base_url);
    return {
      url: `${base}/search/works?q=${encodeURIComponent(quotedDoi("doi", work.doi))}&limit=3`,
      headers: { authorization: `Bearer ${settings.coreApiKey}` },
    };
  },
  map(body, work): ResolverMapping {
    const r = expectObject(body, "the CORE answer");
    const candidates: CandidateSeed[] = [];
    for (const result of objects(r.results)) {
      // The search is by DOI, but a work CORE files under another DOI is not this one.
      const doi = text(result.doi)?.toLowerCase();
      if (doi && work.doi && doi !== work.doi.toLowerCase()) continue;
      const provider = objects(result.dataProviders)[0];
      const provenance = {
        ...provenanceOf({ host_type: "repository" }),
        ...compact({ source: text(provider?.name) ?? "CORE" }),
      };
      const direct = [
        httpUrl(result.downloadUrl),
        httpUrl(result.pdfDownloadLink),
        ...objects(result.links)
          .filter((l) => text(l.type) === "download")
          .map((l) => httpUrl(l.url)),
      ];
      const fullText = [result.sourceFulltextUrls, result.fullTextLinks]
        .flatMap((list) => (Array.isArray(list) ? list : []))
        .map(httpUrl)
        .filter((u): u is string => u !== undefined && pdfPath(u));
      for (const url of [...direct, ...fullText]) if (url) candidates.push({ url, kind: "pdf", provenance });
    }
    const unique = uniqueSeeds(candidates);
    const note = unique.length ? undefined : r.totalHits === 0 ? "not in CORE" : "no full text";
    return { candidates: unique, derived: {}, note };
  },
};
