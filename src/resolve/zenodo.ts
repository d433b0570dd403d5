// `zenodo`: GET /records/?q=doi:"<doi>"&size=3&sort=mostrecent → the files of each open record:
// a `type` of pdf or a key ending in .pdf gives `links.self` (the file's content URL). Closed,
// restricted and embargoed records are skipped; `metadata.license.id` is the licence.
import { provenanceOf } from "./provenance.ts";
import type { ApiResolver } from "./resolver.ts";
import {
  expectObject,
  httpUrl,
  isObject,
  objects,
  quotedDoi,
  text,
  trimSlash,
  uniqueSeeds,
} from "./shape.ts";
import type { CandidateSeed, ResolverMapping } from "./types.ts";

const NOT_OPEN = new Set(["closed", "restricted", "embargoed"]);

export const zenodo: ApiResolver = {
  name: "zenodo",
  kind: "api",
  request(work, settings) {
    if (!work.doi) return { skip: "no DOI" };
    const base = trimSlash(settings.resolvers.zenodo.base_url);
    const q = encodeURIComponent(quotedDoi("doi", work.doi));
    return { url: `${base}/records/?q=${q}&size=3&sort=mostrecent` };
  },
  map(body): ResolverMapping {
    const r = expectObject(body, "the Zenodo answer");
    const hits = expectObject(r.hits, "Zenodo `hits`");
    const candidates: CandidateSeed[] = [];
    let closed = 0;
    for (const record of objects(hits.hits)) {
      const meta = isObject(record.metadata) ? record.metadata : {};
      const access = text(meta.access_right);
      if (access && NOT_OPEN.has(access)) {
        closed++;
        continue;
      }
      const license = isObject(meta.license)
        ? (text(meta.license.id) ?? text(meta.license.title))
        : text(meta.license);
      const type = isObject(meta.resource_type) ? text(meta.resource_type.subtype) : undefined;
      const provenance = {
        ...provenanceOf({
          license,
          host_type: "repository",
          version: type === "preprint" ? "preprint" : undefined,
        }),
        source: "Zenodo",
      };
      for (const file of objects(record.files)) {
        const key = text(file.key) ?? text(file.filename) ?? "";
        if (text(file.type)?.toLowerCase() !== "pdf" && !key.toLowerCase().endsWith(".pdf")) continue;
        const links = isObject(file.links) ? file.links : {};
        const url = httpUrl(links.self) ?? httpUrl(links.content) ?? httpUrl(links.download);
        if (url) candidates.push({ url, kind: "pdf", provenance });
      }
    }
    const unique = uniqueSeeds(candidates);
    const note = unique.length
      ? undefined
      : closed > 0
        ? "record not open"
        : hits.total === 0
          ? "not in Zenodo"
          : "no PDF file";
    return { candidates: unique, derived: {}, note };
  },
};
