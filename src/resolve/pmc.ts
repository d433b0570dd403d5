// `pmc`: the NCBI PMC ID converter (DOI or PMID → PMCID) for works without a PMCID. `idtype` is
// always sent: the current endpoint assumes PMIDs and answers 400 to a DOI without it.
import { normalizePmcid } from "./ids.ts";
import type { ApiResolver } from "./resolver.ts";
import { expectObject, objects, text } from "./shape.ts";
import type { ResolverMapping } from "./types.ts";

export const pmc: ApiResolver = {
  name: "pmc",
  kind: "api",
  request(work, settings) {
    if (work.pmcid) return { skip: "PMCID already known" };
    const [id, idtype] = work.doi
      ? [work.doi, "doi"]
      : work.pmid
        ? [work.pmid, "pmid"]
        : [undefined, undefined];
    if (!id || !idtype) return { skip: "no DOI or PMID" };
    const u = new URL(settings.resolvers.pmc.base_url);
    u.searchParams.set("ids", id);
    u.searchParams.set("idtype", idtype);
    u.searchParams.set("format", "json");
    u.searchParams.set("tool", "docstokg");
    if (settings.email) u.searchParams.set("email", settings.email);
    if (settings.ncbiApiKey) u.searchParams.set("api_key", settings.ncbiApiKey);
    return { url: u.toString() };
  },
  map(body): ResolverMapping {
    const r = expectObject(body, "the PMC ID converter answer");
    for (const record of objects(r.records)) {
      const pmcid = normalizePmcid(record.pmcid);
      if (pmcid && text(record.status) !== "error") return { candidates: [], derived: { pmcid } };
    }
    const err = objects(r.records)
      .map((x) => text(x.errmsg))
      .find(Boolean);
    return { candidates: [], derived: {}, note: err ?? "not in PMC" };
  },
};
