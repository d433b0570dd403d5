// `europepmc`: REST search (resultType=core) by DOI, PMCID or PMID → fullTextUrl entries with
// documentStyle pdf and availabilityCode OA or F (free); a PMCID found here feeds `direct`.
import { normalizePmcid } from "./ids.ts";
import { normalizeLicense } from "./provenance.ts";
import type { ApiResolver } from "./resolver.ts";
import { expectObject, httpUrl, isObject, objects, text, trimSlash } from "./shape.ts";
import type { CandidateSeed, DerivedIds, ResolverMapping } from "./types.ts";

const FREE_CODES = new Set(["OA", "F"]);

export const europepmc: ApiResolver = {
  name: "europepmc",
  kind: "api",
  request(work, settings) {
    let query: string;
    if (work.doi) query = `DOI:"${work.doi}"`;
    else if (work.pmcid) query = `PMCID:${work.pmcid}`;
    else if (work.pmid) query = `EXT_ID:${work.pmid} AND SRC:MED`;
    else return { skip: "no DOI, PMCID or PMID" };
    const base = trimSlash(settings.resolvers.europepmc.base_url);
    return {
      url: `${base}/search?query=${encodeURIComponent(query)}&format=json&resultType=core&pageSize=3`,
    };
  },
  map(body): ResolverMapping {
    const r = expectObject(body, "the Europe PMC answer");
    if (text(r.errCode) || text(r.errMsg))
      return { candidates: [], derived: {}, note: `error: ${text(r.errMsg) ?? r.errCode}` };
    const list = expectObject(r.resultList, "Europe PMC `resultList`");
    const candidates: CandidateSeed[] = [];
    const derived: DerivedIds = {};
    for (const result of objects(list.result)) {
      derived.pmcid ??= normalizePmcid(result.pmcid);
      const urls = isObject(result.fullTextUrlList) ? objects(result.fullTextUrlList.fullTextUrl) : [];
      for (const entry of urls) {
        const url = httpUrl(entry.url);
        if (!url || text(entry.documentStyle) !== "pdf") continue;
        if (!FREE_CODES.has(text(entry.availabilityCode) ?? "")) continue;
        // Europe PMC and PMC are repositories; `license` (e.g. "cc by") is the article's.
        candidates.push({
          url,
          kind: "pdf",
          provenance: {
            ...normalizeLicense(result.license),
            host_type: "repository",
            source: text(entry.site) ?? "Europe_PMC",
          },
        });
      }
    }
    const none = r.hitCount === 0 ? "not indexed" : "no free PDF";
    return { candidates, derived: derived.pmcid ? derived : {}, note: candidates.length ? undefined : none };
  },
};
