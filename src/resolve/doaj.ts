// `doaj`: GET /search/articles/<url-encoded "doi:<doi>"> (the query is part of the path) →
// results[].bibjson.link[] of type fulltext: PDF links are candidates, HTML links landing pages.
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

export const doaj: ApiResolver = {
  name: "doaj",
  kind: "api",
  request(work, settings) {
    if (!work.doi) return { skip: "no DOI" };
    const path = identifierPath(`doi:${work.doi}`, "encode");
    if (path === null) return { skip: DOT_SEGMENT_SKIP };
    const base = trimSlash(settings.resolvers.doaj.base_url);
    return { url: `${base}/search/articles/${path}?page=1&pageSize=3` };
  },
  map(body): ResolverMapping {
    const r = expectObject(body, "the DOAJ answer");
    const pdfs: CandidateSeed[] = [];
    const landings: CandidateSeed[] = [];
    for (const result of objects(r.results)) {
      const bib = isObject(result.bibjson) ? result.bibjson : {};
      const journal = isObject(bib.journal) ? text(bib.journal.title) : undefined;
      for (const link of objects(bib.link)) {
        const url = httpUrl(link.url);
        if (!url || text(link.type) !== "fulltext") continue;
        const type = text(link.content_type)?.toUpperCase();
        // A journal in DOAJ is an open-access journal: its own full text is gold OA.
        const provenance = compact({ host_type: "publisher", oa_status: "gold", source: journal });
        if (type === "PDF") pdfs.push({ url, kind: "pdf", provenance });
        else if (type === "HTML") landings.push({ url, kind: "landing", provenance });
      }
    }
    const candidates = uniqueSeeds([...pdfs, ...landings]);
    return {
      candidates,
      derived: {},
      note: candidates.length ? undefined : r.total === 0 ? "not in DOAJ" : "no full-text link",
    };
  },
};
