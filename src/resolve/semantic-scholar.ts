// `semantic_scholar`: GET /paper/DOI:<doi> → openAccessPdf.url when non-empty (closed papers now
// answer "" rather than null); externalIds.ArXiv / PubMedCentral feed `direct`.
import { normalizeArxiv, normalizePmcid, normalizePmid } from "./ids.ts";
import { provenanceOf } from "./provenance.ts";
import type { ApiResolver } from "./resolver.ts";
import {
  compact,
  DOT_SEGMENT_SKIP,
  expectObject,
  httpUrl,
  identifierPath,
  isObject,
  trimSlash,
} from "./shape.ts";
import type { CandidateSeed, ResolverMapping } from "./types.ts";

export const semanticScholar: ApiResolver = {
  name: "semantic_scholar",
  kind: "api",
  request(work, settings) {
    if (!work.doi) return { skip: "no DOI" };
    const path = identifierPath(work.doi, "encode");
    if (path === null) return { skip: DOT_SEGMENT_SKIP };
    const base = trimSlash(settings.resolvers.semantic_scholar.base_url);
    const url = `${base}/paper/DOI:${path}?fields=openAccessPdf,externalIds,isOpenAccess`;
    return settings.s2ApiKey ? { url, headers: { "x-api-key": settings.s2ApiKey } } : { url };
  },
  map(body): ResolverMapping {
    const r = expectObject(body, "the Semantic Scholar answer");
    const candidates: CandidateSeed[] = [];
    const oa = isObject(r.openAccessPdf) ? r.openAccessPdf : {};
    const url = httpUrl(oa.url);
    if (url)
      candidates.push({
        url,
        kind: "pdf",
        // `status` is the OA colour (GREEN, GOLD, …), not a version.
        provenance: provenanceOf({ license: oa.license, oa_status: oa.status }),
      });
    const ext = isObject(r.externalIds) ? r.externalIds : {};
    const derived = compact({
      arxiv: normalizeArxiv(ext.ArXiv),
      pmcid: normalizePmcid(ext.PubMedCentral),
      pmid: normalizePmid(ext.PubMed),
    });
    return { candidates, derived, note: url ? undefined : "no open-access PDF" };
  },
};
