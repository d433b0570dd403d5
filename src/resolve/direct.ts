// `direct`: candidates that follow from the work itself — its own pdf_urls, the arXiv PDF for an
// arXiv id (on arxiv.org, never export.arxiv.org) and the Europe PMC / PMC renders for a PMCID.
import { normalizeArxiv, normalizePmcid } from "./ids.ts";
import type { ResolverSettings, StaticResolver } from "./resolver.ts";
import { httpUrl, identifierPath, trimSlash } from "./shape.ts";
import type { CandidateSeed, ResolvableWork } from "./types.ts";

/** The PDF URLs for an arXiv id and a PMCID (also used for identifiers other resolvers derive). */
export function idCandidates(
  ids: { arxiv?: string; pmcid?: string },
  settings: ResolverSettings,
  via?: string,
): CandidateSeed[] {
  const d = settings.resolvers.direct;
  const out: CandidateSeed[] = [];
  const provenance = via ? { via } : {};
  // Both shapes admit no dot segment today; the helper keeps it so if they ever widen.
  const arxivId = normalizeArxiv(ids.arxiv);
  const arxiv = arxivId && identifierPath(arxivId, "keep");
  if (arxiv) out.push({ url: `${trimSlash(d.base_url)}/pdf/${arxiv}`, kind: "pdf", provenance });
  const pmcidId = normalizePmcid(ids.pmcid);
  const pmcid = pmcidId && identifierPath(pmcidId, "encode");
  if (pmcid) {
    out.push({
      url: `${trimSlash(d.europepmc_base_url)}/articles/${pmcid}?pdf=render`,
      kind: "pdf",
      provenance,
    });
    out.push({ url: `${trimSlash(d.pmc_base_url)}/articles/${pmcid}/pdf/`, kind: "pdf", provenance });
  }
  return out;
}

export const direct: StaticResolver = {
  name: "direct",
  kind: "static",
  seeds(work: ResolvableWork, settings: ResolverSettings): CandidateSeed[] {
    const own: CandidateSeed[] = [];
    for (const u of work.pdf_urls ?? []) {
      const url = httpUrl(u);
      if (url) own.push({ url, kind: "pdf", provenance: {} });
    }
    return [...own, ...idCandidates(work, settings)];
  },
};
