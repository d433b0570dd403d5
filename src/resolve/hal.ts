// `hal`: the HAL search API (Solr), GET /search/?q=doiId_s:"<doi>"&fl=…&wt=json →
// `response.docs[].fileMain_s` (the main file, usually …/document), then `file_s[]` ending in .pdf;
// `licence_s` (a licence URL) is the licence. Off by default, as the reference had it.
import { normalizeLicense } from "./provenance.ts";
import type { ApiResolver } from "./resolver.ts";
import { expectObject, httpUrl, objects, pdfPath, quotedDoi, trimSlash, uniqueSeeds } from "./shape.ts";
import type { CandidateSeed, ResolverMapping } from "./types.ts";

const FIELDS = "fileMain_s,file_s,licence_s,uri_s,docType_s";

export const hal: ApiResolver = {
  name: "hal",
  kind: "api",
  request(work, settings) {
    if (!work.doi) return { skip: "no DOI" };
    const base = trimSlash(settings.resolvers.hal.base_url);
    const q = encodeURIComponent(quotedDoi("doiId_s", work.doi));
    return { url: `${base}/search/?q=${q}&fl=${FIELDS}&wt=json` };
  },
  map(body): ResolverMapping {
    const r = expectObject(expectObject(body, "the HAL answer").response, "HAL `response`");
    const candidates: CandidateSeed[] = [];
    for (const doc of objects(r.docs)) {
      // Solr answers one value or a list for the same field.
      const licence = [doc.licence_s].flat()[0];
      const provenance = { ...normalizeLicense(licence), host_type: "repository", source: "HAL" };
      const main = httpUrl(doc.fileMain_s);
      if (main) candidates.push({ url: main, kind: "pdf", provenance });
      for (const f of [doc.file_s].flat()) {
        const url = httpUrl(f);
        if (url && pdfPath(url)) candidates.push({ url, kind: "pdf", provenance });
      }
    }
    const unique = uniqueSeeds(candidates);
    const note = unique.length ? undefined : r.numFound === 0 ? "not in HAL" : "metadata only (no file)";
    return { candidates: unique, derived: {}, note };
  },
};
