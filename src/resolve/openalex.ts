// `openalex`: GET /works/doi:<doi>?api_key= (a key is required since 2026) → best_oa_location,
// primary_location, locations[] and open_access.oa_url, mapped like the OpenAlex import; a PMCID is
// derived from ids.pmcid or a PubMed Central location (adding the missing `PMC` prefix).
import { OPENALEX_BACK_PRESSURE } from "../openalex/query.ts";
import { idsFromPmhId, normalizePmcid, normalizePmid, pmcidFromUrl } from "./ids.ts";
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
  text,
  trimSlash,
  uniqueSeeds,
} from "./shape.ts";
import type { CandidateSeed, DerivedIds, ResolverMapping } from "./types.ts";

/** PDF and landing candidates of an OpenAlex work, in import order (SPEC 2.2). */
export function openalexLocations(work: Json): { candidates: CandidateSeed[]; derived: DerivedIds } {
  const locations: Json[] = [];
  for (const key of ["best_oa_location", "primary_location"])
    if (isObject(work[key])) locations.push(work[key]);
  locations.push(...objects(work.locations));
  const pdfs: CandidateSeed[] = [];
  const landings: CandidateSeed[] = [];
  const ids = isObject(work.ids) ? work.ids : {};
  const derived: DerivedIds = {
    pmcid: normalizePmcid(pmcidFromUrl(ids.pmcid) ?? ids.pmcid),
    pmid: normalizePmid(ids.pmid),
  };
  const best = isObject(work.best_oa_location) ? work.best_oa_location : undefined;
  const oaStatus = isObject(work.open_access) ? work.open_access.oa_status : undefined;
  for (const loc of locations) {
    const src = isObject(loc.source) ? loc.source : {};
    const provenance = {
      ...provenanceOf({
        version: loc.version,
        license: loc.license,
        host_type: hostTypeOfSource(src.type),
        // open_access.oa_status is the colour of the best OA location.
        oa_status: loc === best ? oaStatus : undefined,
      }),
      ...compact({ source: text(src.display_name) }),
    };
    const pdf = httpUrl(loc.pdf_url);
    if (pdf) pdfs.push({ url: pdf, kind: "pdf", provenance });
    const landing = httpUrl(loc.landing_page_url);
    // Closed locations' landing pages are paywalls: scraping them costs requests and yields nothing.
    if (landing && loc.is_oa !== false) landings.push({ url: landing, kind: "landing", provenance });
    const fromPmh = idsFromPmhId(loc.id);
    derived.pmcid ??= fromPmh.pmcid ?? pmcidFromUrl(landing);
    derived.arxiv ??= fromPmh.arxiv;
  }
  const oaUrl = isObject(work.open_access) ? httpUrl(work.open_access.oa_url) : undefined;
  if (oaUrl) pdfs.push({ url: oaUrl, kind: "pdf", provenance: provenanceOf({ oa_status: oaStatus }) });
  return { candidates: uniqueSeeds([...pdfs, ...landings]), derived: compact(derived) };
}

/** OpenAlex source types: repositories host copies, journals and the like are publishers. */
function hostTypeOfSource(type: unknown): string | undefined {
  if (type === "repository") return "repository";
  if (type === "journal" || type === "conference" || type === "ebook platform" || type === "book series")
    return "publisher";
  return undefined;
}

export const openalex: ApiResolver = {
  name: "openalex",
  kind: "api",
  request(work, settings) {
    if (!work.doi) return { skip: "no DOI" };
    if (!settings.openalexApiKey) return { skip: "no OpenAlex API key (set OPENALEX_API_KEY)" };
    const path = identifierPath(work.doi, "encode");
    if (path === null) return { skip: DOT_SEGMENT_SKIP };
    const base = trimSlash(settings.resolvers.openalex.base_url);
    return {
      url: `${base}/works/doi:${path}?api_key=${encodeURIComponent(settings.openalexApiKey)}`,
      // OpenAlex answers 403 when a key goes too fast: the host cools down, the work is not refused.
      backPressure: OPENALEX_BACK_PRESSURE,
    };
  },
  map(body): ResolverMapping {
    const { candidates, derived } = openalexLocations(expectObject(body, "the OpenAlex answer"));
    return { candidates, derived, note: candidates.length ? undefined : "closed (no OA location)" };
  },
};
