// Identifier normalization (SPEC 2.3): DOI, PMCID, PMID, arXiv and OpenAlex ids in every spelling
// the inputs use, reduced to one canonical form so the same work always gets the same job.
// Each function returns the canonical value or null when the input is not that kind of identifier.

const DOI_PREFIX = /^(?:https?:\/\/(?:dx\.)?doi\.org\/|doi:\s*)/i;
const DOI_SHAPE = /^10\.\d+\/\S+$/;

/** `10.1038/ABC`, `doi:10.1038/abc`, `https://doi.org/10.1038/abc` → `10.1038/abc`. */
export function normalizeDoi(raw: string): string | null {
  let text = raw.trim();
  const prefixed = DOI_PREFIX.exec(text);
  if (prefixed) {
    text = text.slice(prefixed[0].length).trim();
    // Resolver URLs may carry a percent-encoded DOI (10.1000%2Fxyz).
    if (prefixed[0].includes("/") && text.includes("%")) {
      try {
        text = decodeURIComponent(text);
      } catch {
        return null;
      }
    }
  }
  text = text.toLowerCase();
  return DOI_SHAPE.test(text) ? text : null;
}

/** `PMC123`, `pmc123`, `pmcid:PMC123`, `123`, a `/pmc/articles/PMC123` URL → `PMC123`. */
export function normalizePmcid(raw: string | number): string | null {
  if (typeof raw === "number") return Number.isSafeInteger(raw) && raw > 0 ? `PMC${raw}` : null;
  let text = raw.trim();
  const fromUrl = /^https?:\/\/[^/]+\/(?:pmc\/)?articles\/(?:PMC)?(\d+)\/?$/i.exec(text);
  if (fromUrl) return `PMC${fromUrl[1]}`;
  text = text.replace(/^pmcid:\s*/i, "");
  const m = /^(?:PMC)?(\d+)$/i.exec(text);
  return m && !/^0+$/.test(m[1] as string) ? `PMC${m[1]}` : null;
}

/** `123`, `pmid:123`, `https://pubmed.ncbi.nlm.nih.gov/123` → `123`. */
export function normalizePmid(raw: string | number): string | null {
  if (typeof raw === "number") return Number.isSafeInteger(raw) && raw > 0 ? String(raw) : null;
  let text = raw.trim();
  const fromUrl =
    /^https?:\/\/(?:pubmed\.ncbi\.nlm\.nih\.gov|www\.ncbi\.nlm\.nih\.gov\/pubmed)\/(\d+)\/?$/i.exec(text);
  if (fromUrl) return fromUrl[1] as string;
  text = text.replace(/^pmid:\s*/i, "");
  return /^\d+$/.test(text) && !/^0+$/.test(text) ? text : null;
}

const ARXIV_NEW = /^(\d{4}\.\d{4,5})(v\d+)?$/;
const ARXIV_OLD = /^([a-z-]+(?:\.[a-z]{2})?)\/(\d{7})(v\d+)?$/i;

/**
 * `arXiv:2101.00001`, `2101.00001v2`, `hep-th/9901001`, `math.GT/0309136`, arxiv.org abs/pdf URLs
 * → the bare id (version kept when given; archive lowercased, subject class uppercased).
 */
export function normalizeArxiv(raw: string): string | null {
  let text = raw.trim();
  text = text.replace(/^https?:\/\/(?:export\.)?arxiv\.org\/(?:abs|pdf)\//i, "").replace(/^arxiv:\s*/i, "");
  text = text.replace(/\.pdf$/i, "");
  const modern = ARXIV_NEW.exec(text);
  if (modern) return `${modern[1]}${(modern[2] ?? "").toLowerCase()}`;
  const old = ARXIV_OLD.exec(text);
  if (!old) return null;
  const [archive, subject] = (old[1] as string).split(".");
  const name = subject ? `${archive?.toLowerCase()}.${subject.toUpperCase()}` : archive?.toLowerCase();
  return `${name}/${old[2]}${(old[3] ?? "").toLowerCase()}`;
}

/** `W123`, `openalex:W123`, `https://openalex.org/W123` → `W123`. */
export function normalizeOpenalex(raw: string): string | null {
  const text = raw
    .trim()
    .replace(/^https?:\/\/(?:api\.)?openalex\.org\/(?:works\/)?/i, "")
    .replace(/^openalex:\s*/i, "");
  const m = /^[wW](\d+)$/.exec(text);
  return m ? `W${m[1]}` : null;
}
