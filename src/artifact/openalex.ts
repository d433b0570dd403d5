// OpenAlex work records (SPEC 2.2) mapped onto an Artifact: identifiers from `ids`, candidate URLs
// from best_oa_location, primary_location and locations[] (first occurrence wins), then
// open_access.oa_url. PMCIDs missing from `ids` are recovered from PMC location ids and URLs.
import { type Artifact, normalizeArtifact, type Parsed } from "./artifact.ts";
import { normalizePmcid } from "./identifiers.ts";
import { canonicalInputUrl } from "./url.ts";

interface Location {
  id?: unknown;
  pdf_url?: unknown;
  landing_page_url?: unknown;
}

const PMC_OAI = /^pmh:oai:pubmedcentral\.nih\.gov:(\d+)$/i;
const PMC_LANDING = /\/pmc\/articles\/(?:PMC)?(\d+)/i;

/** Whether a parsed JSON object looks like an OpenAlex work record. */
export function isOpenAlexWork(obj: Record<string, unknown>): boolean {
  return typeof obj.id === "string" && /^https?:\/\/openalex\.org\/W\d+$/i.test(obj.id);
}

function str(x: unknown): string | undefined {
  return typeof x === "string" && x.trim() !== "" ? x : undefined;
}

function asLocation(x: unknown): Location | undefined {
  return x !== null && typeof x === "object" && !Array.isArray(x) ? (x as Location) : undefined;
}

/** The PMCID hidden in a location: an OAI id of PubMed Central or a /pmc/articles/<n> landing URL. */
export function pmcidFromLocation(loc: Location): string | undefined {
  const id = str(loc.id);
  const oai = id ? PMC_OAI.exec(id) : null;
  if (oai) return `PMC${oai[1]}`;
  const landing = str(loc.landing_page_url);
  const m = landing ? PMC_LANDING.exec(landing) : null;
  return m ? `PMC${m[1]}` : undefined;
}

/** Map an OpenAlex work object to a normalized Artifact. */
export function artifactFromOpenAlex(work: Record<string, unknown>): Parsed<Artifact> {
  const ids = asLocation(work.ids) as Record<string, unknown> | undefined;
  const locations: Location[] = [];
  for (const x of [work.best_oa_location, work.primary_location]) {
    const loc = asLocation(x);
    if (loc) locations.push(loc);
  }
  if (Array.isArray(work.locations)) {
    for (const x of work.locations) {
      const loc = asLocation(x);
      if (loc) locations.push(loc);
    }
  }
  const pdf: string[] = [];
  const landing: string[] = [];
  let pmcid = str(ids?.pmcid);
  for (const loc of locations) {
    const p = str(loc.pdf_url);
    if (p) pdf.push(p);
    const l = str(loc.landing_page_url);
    if (l) landing.push(l);
    pmcid ??= pmcidFromLocation(loc);
  }
  const oaUrl = str(asLocation(work.open_access) && (work.open_access as Record<string, unknown>).oa_url);
  if (oaUrl) pdf.push(oaUrl);

  const year = work.publication_year;
  const candidate: Record<string, unknown> = {
    openalex: str(ids?.openalex) ?? str(work.id),
    doi: str(ids?.doi) ?? str(work.doi),
    pmid: str(ids?.pmid),
    pmcid: pmcid && normalizePmcid(pmcid) ? pmcid : undefined,
    title: str(work.title) ?? str(work.display_name),
    year: typeof year === "number" && Number.isInteger(year) ? year : undefined,
    // A malformed URL in a large record should not cost the whole work: keep only valid ones.
    pdf_urls: pdf.filter((u) => canonicalInputUrl(u) !== null),
    landing_urls: landing.filter((u) => canonicalInputUrl(u) !== null),
  };
  for (const key of Object.keys(candidate)) if (candidate[key] === undefined) delete candidate[key];
  return normalizeArtifact(candidate);
}
