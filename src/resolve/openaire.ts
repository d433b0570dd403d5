// `openaire`: the OpenAIRE search API, GET /search/publications?doi=<doi>&format=json (XML-derived
// JSON: text in `$`, attributes in `@…`, one child an object and several a list) → each result's
// instances: web resource URLs ending in .pdf are candidates, other URLs of open instances landing
// pages, with the instance's licence; then, as the reference did, any other .pdf URL in the answer.
// Off by default, as the reference had it.
import { normalizeLicense } from "./provenance.ts";
import type { ApiResolver } from "./resolver.ts";
import {
  expectObject,
  httpUrl,
  isObject,
  type Json,
  nodeText,
  oneOrMany,
  pdfPath,
  text,
  trimSlash,
  uniqueSeeds,
} from "./shape.ts";
import type { CandidateSeed, ResolverMapping } from "./types.ts";

/** Every http(s) URL ending in .pdf anywhere in a JSON value (bounded depth). */
function pdfUrlsIn(x: unknown, out: string[], depth = 0): string[] {
  if (depth > 24) return out;
  if (typeof x === "string") {
    const url = httpUrl(x);
    if (url && pdfPath(url)) out.push(url);
  } else if (Array.isArray(x)) for (const v of x) pdfUrlsIn(v, out, depth + 1);
  else if (isObject(x)) for (const v of Object.values(x)) pdfUrlsIn(v, out, depth + 1);
  return out;
}

export const openaire: ApiResolver = {
  name: "openaire",
  kind: "api",
  request(work, settings) {
    if (!work.doi) return { skip: "no DOI" };
    const base = trimSlash(settings.resolvers.openaire.base_url);
    return { url: `${base}/search/publications?doi=${encodeURIComponent(work.doi)}&format=json` };
  },
  map(body): ResolverMapping {
    const response = expectObject(expectObject(body, "the OpenAIRE answer").response, "OpenAIRE `response`");
    const results = isObject(response.results) ? oneOrMany(response.results.result) : [];
    const pdfs: CandidateSeed[] = [];
    const landings: CandidateSeed[] = [];
    for (const result of results) {
      const entity = isObject(result.metadata) ? result.metadata["oaf:entity"] : undefined;
      const oaf: Json = isObject(entity) && isObject(entity["oaf:result"]) ? entity["oaf:result"] : {};
      const instances = isObject(oaf.children) ? oneOrMany(oaf.children.instance) : [];
      for (const instance of instances) {
        const access = isObject(instance.accessright) ? text(instance.accessright["@classid"]) : undefined;
        const hostedBy = isObject(instance.hostedby) ? text(instance.hostedby["@name"]) : undefined;
        const provenance = {
          ...normalizeLicense(nodeText(instance.license)),
          ...(hostedBy ? { source: hostedBy } : {}),
        };
        for (const resource of oneOrMany(instance.webresource)) {
          const url = httpUrl(nodeText(resource.url));
          if (!url) continue;
          if (pdfPath(url)) pdfs.push({ url, kind: "pdf", provenance });
          else if (access === "OPEN") landings.push({ url, kind: "landing", provenance });
        }
      }
      for (const url of pdfUrlsIn(result, [])) pdfs.push({ url, kind: "pdf", provenance: {} });
    }
    const candidates = uniqueSeeds([...pdfs, ...landings]);
    const note = candidates.length
      ? undefined
      : results.length === 0
        ? "not in OpenAIRE"
        : "no open instance";
    return { candidates, derived: {}, note };
  },
};
