// A catalogue of test works with known truth: for each work, which copies exist where (its own
// URLs, each API's answer, landing pages, the archive) and therefore what a correct run obtains, by
// which resolver, or why not. test/support/apis.ts serves it; end-to-end tests assert against it.
import type { ResolverName } from "../../src/config/schema.ts";
import type { Reason } from "../../src/core/reasons.ts";

/** Symbolic hosts of the simulated web (apis.ts gives each its own 127.0.0.x address). */
export type SiteName = "pub" | "repo" | "flaky" | "wall" | "arxiv" | "epmcweb" | "pmcweb";

export interface Loc {
  host: SiteName;
  /** Path, optionally with a query. */
  path: string;
}

/** An href on a landing page: relative text as written, or an absolute location. */
export type Href = string | Loc;

export type Page =
  | { kind: "pdf" }
  | {
      kind: "landing";
      pdfUrl?: Href;
      alternatePdf?: Href;
      anchors?: { href: Href; text: string }[];
      base?: string;
    }
  /** A bot challenge answered with status 200. */
  | { kind: "captcha" }
  | { kind: "status"; status: number }
  /** Bytes labelled application/pdf that are not a PDF. */
  | { kind: "garbage" };

export type Expectation =
  | { obtained: true; resolver: ResolverName }
  | { obtained: false; reason: Reason }
  /** Failed transiently (exact reason depends on breaker state: http_503 or breaker_open). */
  | { obtained: false; transient: true };

export interface TestWork {
  n: number;
  scenario: string;
  ids: { doi?: string; pmid?: string; pmcid?: string; arxiv?: string };
  pdf_urls?: Loc[];
  landing_urls?: Loc[];
  pages: { at: Loc; page: Page }[];
  /** Absent: 404 (unknown DOI). `{}`: known but closed. */
  unpaywall?: {
    pdf?: Loc;
    landing?: Loc;
    pmh_id?: string;
    /** What the location says (defaults: a repository's accepted version, no licence, green). */
    hostType?: string;
    version?: string;
    license?: string | null;
    oaStatus?: string;
  };
  /** Absent: 404. */
  crossref?: { links?: { at: Loc; type: string; version: string }[]; primary?: Loc };
  /** Absent: hitCount 0. */
  europepmc?: { pdf?: Loc; pmcid?: string };
  /** The PMCID the ID converter knows, if any. */
  idconv?: string;
  /** Absent: 404. */
  s2?: { pdf?: Loc; arxiv?: string };
  /** Absent: total 0. */
  doaj?: { pdf?: Loc; html?: Loc };
  /** Absent: 404. */
  openalex?: { pdf?: Loc; landing?: Loc; pmcLocation?: string };
  /**
   * The repository sources (absent: an empty answer). `license`/`version` are what the source says
   * about the copy, in its own words; figshare's `page` is the public article page.
   */
  core?: { pdf?: Loc };
  zenodo?: { pdf?: Loc; license?: string; preprint?: boolean };
  figshare?: { pdf?: Loc; license?: string };
  hal?: { pdf?: Loc; licence?: string };
  osf?: { pdf?: Loc };
  openaire?: { pdf?: Loc; license?: string };
  /** Where doi.org redirects; absent: 404. */
  doiTarget?: Loc;
  /** Locations the archive holds a capture of: a PDF unless `page` says otherwise. */
  archived?: (Loc & { page?: Page })[];
  expect: Expectation;
}

type Builder = (n: number) => Omit<TestWork, "n" | "scenario">;

const doiOf = (n: number) => `10.5555/sim.${n}`;
const at = (host: SiteName, path: string): Loc => ({ host, path });

/** What any known, closed DOI looks like: APIs know it, the publisher page has no PDF link. */
function closedDefaults(n: number): Omit<TestWork, "n" | "scenario" | "expect"> {
  const article = at("pub", `/w${n}/article`);
  return {
    ids: { doi: doiOf(n) },
    pages: [{ at: article, page: { kind: "landing" } }],
    unpaywall: {},
    crossref: { primary: article },
    openalex: {},
    doiTarget: article,
  };
}

/** Extend the closed defaults with the one place a copy lives. */
function known(
  n: number,
  extra: Partial<TestWork> & { expect: Expectation },
): Omit<TestWork, "n" | "scenario"> {
  const base = closedDefaults(n);
  return {
    ...base,
    ...extra,
    pages: [...base.pages, ...(extra.pages ?? [])],
    ids: { ...base.ids, ...extra.ids },
  };
}

const SCENARIOS: Record<string, Builder> = {
  direct_pdf: (n) => ({
    ids: {},
    pdf_urls: [at("pub", `/w${n}/own.pdf`)],
    pages: [{ at: at("pub", `/w${n}/own.pdf`), page: { kind: "pdf" } }],
    expect: { obtained: true, resolver: "direct" },
  }),
  arxiv_id: (n) => ({
    ids: { arxiv: `2101.${String(10000 + n)}` },
    pages: [{ at: at("arxiv", `/pdf/2101.${String(10000 + n)}`), page: { kind: "pdf" } }],
    expect: { obtained: true, resolver: "direct" },
  }),
  pmcid_direct: (n) => ({
    ids: { pmcid: `PMC${900000 + n}` },
    pages: [{ at: at("epmcweb", `/articles/PMC${900000 + n}`), page: { kind: "pdf" } }],
    expect: { obtained: true, resolver: "direct" },
  }),
  unpaywall_pdf: (n) =>
    known(n, {
      unpaywall: { pdf: at("repo", `/w${n}/accepted.pdf`) },
      pages: [{ at: at("repo", `/w${n}/accepted.pdf`), page: { kind: "pdf" } }],
      expect: { obtained: true, resolver: "unpaywall" },
    }),
  unpaywall_landing_scrape: (n) =>
    known(n, {
      unpaywall: { landing: at("repo", `/w${n}/record`) },
      pages: [
        { at: at("repo", `/w${n}/record`), page: { kind: "landing", pdfUrl: `/w${n}/files/paper.pdf` } },
        { at: at("repo", `/w${n}/files/paper.pdf`), page: { kind: "pdf" } },
      ],
      expect: { obtained: true, resolver: "landing" },
    }),
  crossref_pdf: (n) =>
    known(n, {
      crossref: {
        links: [
          { at: at("pub", `/w${n}/tdm.xml`), type: "text/xml", version: "vor" },
          { at: at("pub", `/w${n}/vor.pdf`), type: "application/pdf", version: "vor" },
        ],
        primary: at("pub", `/w${n}/article`),
      },
      pages: [{ at: at("pub", `/w${n}/vor.pdf`), page: { kind: "pdf" } }],
      expect: { obtained: true, resolver: "crossref" },
    }),
  crossref_unspecified: (n) =>
    known(n, {
      crossref: {
        links: [{ at: at("pub", `/w${n}/fulltext`), type: "unspecified", version: "vor" }],
        primary: at("pub", `/w${n}/article`),
      },
      pages: [{ at: at("pub", `/w${n}/fulltext`), page: { kind: "pdf" } }],
      expect: { obtained: true, resolver: "crossref" },
    }),
  europepmc_pdf: (n) =>
    known(n, {
      europepmc: { pdf: at("epmcweb", `/articles/PMC${800000 + n}?pdf=render`), pmcid: `PMC${800000 + n}` },
      pages: [{ at: at("epmcweb", `/articles/PMC${800000 + n}`), page: { kind: "pdf" } }],
      expect: { obtained: true, resolver: "europepmc" },
    }),
  europepmc_pmcid_feeds_direct: (n) =>
    known(n, {
      europepmc: { pmcid: `PMC${700000 + n}` },
      pages: [{ at: at("pmcweb", `/articles/PMC${700000 + n}/pdf/`), page: { kind: "pdf" } }],
      expect: { obtained: true, resolver: "direct" },
    }),
  pmc_idconv_feeds_direct: (n) =>
    known(n, {
      idconv: `PMC${600000 + n}`,
      pages: [{ at: at("pmcweb", `/articles/PMC${600000 + n}/pdf/`), page: { kind: "pdf" } }],
      expect: { obtained: true, resolver: "direct" },
    }),
  s2_pdf: (n) =>
    known(n, {
      s2: { pdf: at("repo", `/w${n}/s2.pdf`) },
      pages: [{ at: at("repo", `/w${n}/s2.pdf`), page: { kind: "pdf" } }],
      expect: { obtained: true, resolver: "semantic_scholar" },
    }),
  s2_closed_but_arxiv: (n) =>
    known(n, {
      s2: { arxiv: `2301.${String(20000 + n)}` },
      pages: [{ at: at("arxiv", `/pdf/2301.${String(20000 + n)}`), page: { kind: "pdf" } }],
      expect: { obtained: true, resolver: "direct" },
    }),
  doaj_pdf: (n) =>
    known(n, {
      doaj: { pdf: at("pub", `/w${n}/doaj.pdf`) },
      pages: [{ at: at("pub", `/w${n}/doaj.pdf`), page: { kind: "pdf" } }],
      expect: { obtained: true, resolver: "doaj" },
    }),
  doaj_html_landing: (n) =>
    known(n, {
      doaj: { html: at("pub", `/w${n}/html`) },
      pages: [
        { at: at("pub", `/w${n}/html`), page: { kind: "landing", alternatePdf: `/w${n}/alt.pdf` } },
        { at: at("pub", `/w${n}/alt.pdf`), page: { kind: "pdf" } },
      ],
      expect: { obtained: true, resolver: "landing" },
    }),
  openalex_pdf: (n) =>
    known(n, {
      openalex: { pdf: at("repo", `/w${n}/oa.pdf`) },
      pages: [{ at: at("repo", `/w${n}/oa.pdf`), page: { kind: "pdf" } }],
      expect: { obtained: true, resolver: "openalex" },
    }),
  openalex_pmc_location: (n) =>
    known(n, {
      openalex: { pmcLocation: String(500000 + n) },
      pages: [{ at: at("pmcweb", `/articles/PMC${500000 + n}/pdf/`), page: { kind: "pdf" } }],
      expect: { obtained: true, resolver: "direct" },
    }),
  unpaywall_pmh_arxiv: (n) =>
    known(n, {
      unpaywall: {
        landing: at("arxiv", `/abs/2201.${String(30000 + n)}`),
        pmh_id: `oai:arXiv.org:2201.${String(30000 + n)}`,
      },
      pages: [{ at: at("arxiv", `/pdf/2201.${String(30000 + n)}`), page: { kind: "pdf" } }],
      expect: { obtained: true, resolver: "direct" },
    }),
  doi_landing_citation_meta: (n) =>
    known(n, {
      crossref: undefined,
      doiTarget: at("pub", `/w${n}/landing`),
      pages: [
        { at: at("pub", `/w${n}/landing`), page: { kind: "landing", pdfUrl: at("pub", `/w${n}/meta.pdf`) } },
        { at: at("pub", `/w${n}/meta.pdf`), page: { kind: "pdf" } },
      ],
      expect: { obtained: true, resolver: "doi" },
    }),
  doi_landing_base_href: (n) =>
    known(n, {
      crossref: undefined,
      doiTarget: at("pub", `/w${n}/landing`),
      pages: [
        {
          at: at("pub", `/w${n}/landing`),
          page: {
            kind: "landing",
            base: `/w${n}/content/v2/`,
            anchors: [{ href: "paper.pdf", text: "Full text" }],
          },
        },
        { at: at("pub", `/w${n}/content/v2/paper.pdf`), page: { kind: "pdf" } },
      ],
      expect: { obtained: true, resolver: "doi" },
    }),
  doi_landing_anchor_text: (n) =>
    known(n, {
      crossref: undefined,
      doiTarget: at("pub", `/w${n}/landing`),
      pages: [
        {
          at: at("pub", `/w${n}/landing`),
          page: { kind: "landing", anchors: [{ href: `/w${n}/download?format=p`, text: "Download PDF" }] },
        },
        { at: at("pub", `/w${n}/download`), page: { kind: "pdf" } },
      ],
      expect: { obtained: true, resolver: "doi" },
    }),
  own_landing_urls: (n) => ({
    ids: {},
    landing_urls: [at("repo", `/w${n}/item`)],
    pages: [
      {
        at: at("repo", `/w${n}/item`),
        page: { kind: "landing", alternatePdf: at("repo", `/w${n}/item.pdf`) },
      },
      { at: at("repo", `/w${n}/item.pdf`), page: { kind: "pdf" } },
    ],
    expect: { obtained: true, resolver: "landing" },
  }),
  html_as_pdf_then_landing: (n) =>
    known(n, {
      unpaywall: { pdf: at("pub", `/w${n}/pdf-that-is-html`) },
      pages: [
        { at: at("pub", `/w${n}/pdf-that-is-html`), page: { kind: "landing", pdfUrl: `/w${n}/real.pdf` } },
        { at: at("pub", `/w${n}/real.pdf`), page: { kind: "pdf" } },
      ],
      expect: { obtained: true, resolver: "landing" },
    }),
  only_in_wayback: (n) =>
    known(n, {
      unpaywall: { pdf: at("pub", `/w${n}/gone.pdf`) },
      pages: [{ at: at("pub", `/w${n}/gone.pdf`), page: { kind: "status", status: 404 } }],
      archived: [at("pub", `/w${n}/gone.pdf`)],
      expect: { obtained: true, resolver: "wayback" },
    }),
  landing_only_in_wayback: (n) =>
    known(n, {
      unpaywall: { landing: at("repo", `/w${n}/record`) },
      pages: [
        { at: at("repo", `/w${n}/record`), page: { kind: "status", status: 410 } },
        { at: at("repo", `/w${n}/files/paper.pdf`), page: { kind: "status", status: 404 } },
      ],
      archived: [
        { ...at("repo", `/w${n}/record`), page: { kind: "landing", pdfUrl: `/w${n}/files/paper.pdf` } },
        at("repo", `/w${n}/files/paper.pdf`),
      ],
      expect: { obtained: true, resolver: "wayback" },
    }),
  closed: (n) => known(n, { expect: { obtained: false, reason: "html_only" } }),
  unknown_doi: (n) => ({
    ids: { doi: doiOf(n) },
    pages: [],
    expect: { obtained: false, reason: "not_found" },
  }),
  pmid_nowhere: (n) => ({
    ids: { pmid: String(40000000 + n) },
    pages: [],
    expect: { obtained: false, reason: "no_candidates" },
  }),
  dead_pdf_link: (n) => ({
    ids: { doi: doiOf(n) },
    pages: [{ at: at("pub", `/w${n}/dead.pdf`), page: { kind: "status", status: 404 } }],
    unpaywall: { pdf: at("pub", `/w${n}/dead.pdf`) },
    expect: { obtained: false, reason: "not_found" },
  }),
  host_503: (n) =>
    known(n, {
      unpaywall: { pdf: at("flaky", `/w${n}/paper.pdf`) },
      pages: [{ at: at("flaky", `/w${n}/paper.pdf`), page: { kind: "status", status: 503 } }],
      expect: { obtained: false, transient: true },
    }),
  captcha_wall: (n) => ({
    ids: { doi: doiOf(n) },
    pages: [{ at: at("wall", `/w${n}/paper.pdf`), page: { kind: "captcha" } }],
    unpaywall: { pdf: at("wall", `/w${n}/paper.pdf`) },
    expect: { obtained: false, reason: "blocked" },
  }),
  not_a_pdf: (n) => ({
    ids: { doi: doiOf(n) },
    pages: [{ at: at("pub", `/w${n}/broken.pdf`), page: { kind: "garbage" } }],
    unpaywall: { pdf: at("pub", `/w${n}/broken.pdf`) },
    expect: { obtained: false, reason: "not_pdf" },
  }),
};

export const SCENARIO_NAMES = Object.keys(SCENARIOS);

/** The catalogue: every scenario `copies` times (default 2 → 60 works), numbered from 1. */
export function buildCatalogue(copies = 2): TestWork[] {
  const works: TestWork[] = [];
  let n = 0;
  for (let c = 0; c < copies; c++)
    for (const [scenario, build] of Object.entries(SCENARIOS)) {
      n++;
      works.push({ n, scenario, ...build(n) });
    }
  return works;
}

/** The identifier `fetch` is given for a work (what a user would type). */
export function workArgument(w: TestWork, url: (l: Loc) => string): string {
  if (w.ids.doi) return w.ids.doi;
  if (w.ids.pmcid) return w.ids.pmcid;
  if (w.ids.pmid) return `pmid:${w.ids.pmid}`;
  if (w.ids.arxiv) return `arXiv:${w.ids.arxiv}`;
  const own = w.pdf_urls?.[0] ?? w.landing_urls?.[0];
  if (own) return url(own);
  throw new Error(`work ${w.n} has no identifier`);
}
