// Identifier shapes resolvers exchange: PMCIDs, PMIDs and arXiv ids found in API answers, OAI-PMH
// ids and repository URLs, normalized so `direct` never builds a doubled `PMC` prefix.

/** `PMC123`, `pmc123`, `123`, `PMC123.2` → `PMC123`; anything else → undefined. */
export function normalizePmcid(value: unknown): string | undefined {
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  const m = /^\s*(?:pmcid:\s*)?(?:pmc)?(\d+)(?:\.\d+)?\s*$/i.exec(String(value));
  return m ? `PMC${m[1]}` : undefined;
}

/** `123`, 123, `https://pubmed.ncbi.nlm.nih.gov/123` → `123`. */
export function normalizePmid(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isInteger(value) && value > 0) return String(value);
  if (typeof value !== "string") return undefined;
  const m = /^\s*(?:pmid:\s*)?(?:https?:\/\/pubmed\.ncbi\.nlm\.nih\.gov\/)?(\d+)\/?\s*$/i.exec(value);
  return m ? m[1] : undefined;
}

const NEW_ARXIV = /^\d{4}\.\d{4,5}(?:v\d+)?$/;
const OLD_ARXIV = /^[a-z-]+(?:\.[A-Z]{2})?\/\d{7}(?:v\d+)?$/i;

/** `arXiv:2101.00001`, `2101.00001v2`, `hep-th/9901001`, arxiv.org abs/pdf URLs → the bare id. */
export function normalizeArxiv(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  let s = value.trim().replace(/^arxiv:/i, "");
  const url = /^https?:\/\/(?:export\.)?arxiv\.org\/(?:abs|pdf)\/(.+?)(?:\.pdf)?\/?$/i.exec(s);
  if (url?.[1]) s = url[1];
  return NEW_ARXIV.test(s) || OLD_ARXIV.test(s) ? s : undefined;
}

/** OAI-PMH ids: `oai:arXiv.org:1304.1068` → arxiv, `oai:pubmedcentral.nih.gov:4221854` → PMC4221854. */
export function idsFromPmhId(pmh: unknown): { arxiv?: string; pmcid?: string } {
  if (typeof pmh !== "string") return {};
  const s = pmh.replace(/^pmh:/, "");
  const arxiv = /^oai:arxiv\.org:(.+)$/i.exec(s);
  if (arxiv) return { arxiv: normalizeArxiv(arxiv[1]) };
  const pmc = /^oai:pubmedcentral\.nih\.gov:(\d+)$/i.exec(s);
  if (pmc) return { pmcid: normalizePmcid(pmc[1]) };
  return {};
}

/** A PMC article URL (`…/pmc/articles/PMC123`, `…/pmc/articles/123`, `pmc.ncbi.nlm.nih.gov/articles/PMC123`). */
export function pmcidFromUrl(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  const m =
    /^https?:\/\/(?:www\.ncbi\.nlm\.nih\.gov\/pmc|pmc\.ncbi\.nlm\.nih\.gov|(?:www\.)?europepmc\.org)\/articles\/(?:pmc)?(\d+)(?:[/?#]|$)/i.exec(
      url,
    );
  return m ? `PMC${m[1]}` : undefined;
}
