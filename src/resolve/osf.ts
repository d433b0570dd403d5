// `osf`: OSF preprints, GET /preprints/?filter[doi]=<doi>&embed=primary_file → the preprint's
// download link (`links.download`, the embedded primary file's `links.download`, or
// `attributes.primary_file.links.download` of older answers); the preprint page as landing
// candidate. Preprints are submitted versions. Off by default, as the reference had it.
import { provenanceOf } from "./provenance.ts";
import type { ApiResolver } from "./resolver.ts";
import { expectObject, httpUrl, isObject, type Json, objects, trimSlash, uniqueSeeds } from "./shape.ts";
import type { CandidateSeed, ResolverMapping } from "./types.ts";

const linksOf = (x: unknown): Json => (isObject(x) && isObject(x.links) ? x.links : {});

export const osf: ApiResolver = {
  name: "osf",
  kind: "api",
  request(work, settings) {
    if (!work.doi) return { skip: "no DOI" };
    const base = trimSlash(settings.resolvers.osf.base_url);
    return { url: `${base}/preprints/?filter%5Bdoi%5D=${encodeURIComponent(work.doi)}&embed=primary_file` };
  },
  map(body): ResolverMapping {
    const r = expectObject(body, "the OSF answer");
    const pdfs: CandidateSeed[] = [];
    const landings: CandidateSeed[] = [];
    const provenance = { ...provenanceOf({ version: "preprint", host_type: "repository" }), source: "OSF" };
    for (const preprint of objects(r.data)) {
      const attributes = isObject(preprint.attributes) ? preprint.attributes : {};
      const embedded =
        isObject(preprint.embeds) && isObject(preprint.embeds.primary_file)
          ? preprint.embeds.primary_file.data
          : undefined;
      for (const link of [
        linksOf(preprint).download,
        linksOf(embedded).download,
        linksOf(attributes.primary_file).download,
      ]) {
        const url = httpUrl(link);
        if (url) pdfs.push({ url, kind: "pdf", provenance });
      }
      const page = httpUrl(linksOf(preprint).html);
      if (page) landings.push({ url: page, kind: "landing", provenance });
    }
    const candidates = uniqueSeeds([...pdfs, ...landings]);
    return { candidates, derived: {}, note: candidates.length ? undefined : "no OSF preprint" };
  },
};
