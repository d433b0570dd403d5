// `unpaywall`: GET /v2/<doi>?email= → best_oa_location then oa_locations[] (PDFs first, landing
// pages as landing candidates), keeping host_type/version/license; pmh_ids yield arXiv ids/PMCIDs.
import { idsFromPmhId, pmcidFromUrl } from "./ids.ts";
import { provenanceOf } from "./provenance.ts";
import type { ApiResolver } from "./resolver.ts";
import {
  compact,
  DOT_SEGMENT_SKIP,
  expectObject,
  httpUrl,
  identifierPath,
  isObject,
  type Json,
  objects,
  trimSlash,
  uniqueSeeds,
} from "./shape.ts";
import type { CandidateSeed, DerivedIds, ResolverMapping } from "./types.ts";

export const unpaywall: ApiResolver = {
  name: "unpaywall",
  kind: "api",
  request(work, settings) {
    if (!work.doi) return { skip: "no DOI" };
    if (!settings.email) return { skip: "no contact email (set contact_email or DOCSTOKG_CONTACT_EMAIL)" };
    const path = identifierPath(work.doi, "keep");
    if (path === null) return { skip: DOT_SEGMENT_SKIP };
    const base = trimSlash(settings.resolvers.unpaywall.base_url);
    return { url: `${base}/v2/${path}?email=${encodeURIComponent(settings.email)}` };
  },
  map(body): ResolverMapping {
    const r = expectObject(body, "the Unpaywall answer");
    const locations: Json[] = [];
    if (isObject(r.best_oa_location)) locations.push(r.best_oa_location);
    locations.push(...objects(r.oa_locations));
    const pdfs: CandidateSeed[] = [];
    const landings: CandidateSeed[] = [];
    const derived: DerivedIds = {};
    const best = isObject(r.best_oa_location) ? r.best_oa_location : undefined;
    for (const loc of locations) {
      // The work's oa_status is the colour of its best location (unpaywall.org/data-format).
      // (Its copy inside oa_locations is dropped as a duplicate, so the best one keeps the status.)
      const provenance = provenanceOf({
        host_type: loc.host_type,
        version: loc.version,
        license: loc.license,
        oa_status: loc === best ? r.oa_status : undefined,
      });
      const pdf = httpUrl(loc.url_for_pdf);
      if (pdf) pdfs.push({ url: pdf, kind: "pdf", provenance });
      const landing = httpUrl(loc.url_for_landing_page) ?? (pdf ? undefined : httpUrl(loc.url));
      if (landing) landings.push({ url: landing, kind: "landing", provenance });
      const fromPmh = idsFromPmhId(loc.pmh_id);
      derived.arxiv ??= fromPmh.arxiv;
      derived.pmcid ??= fromPmh.pmcid ?? pmcidFromUrl(loc.url_for_landing_page);
    }
    const candidates = uniqueSeeds([...pdfs, ...landings]);
    const note = candidates.length
      ? undefined
      : r.is_oa === false
        ? "closed (is_oa false)"
        : "no OA location";
    return { candidates, derived: compact(derived), note };
  },
};
