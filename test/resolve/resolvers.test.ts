import { describe, expect, test } from "bun:test";
import { defaultConfig } from "../../src/config/schema.ts";
import { crossref } from "../../src/resolve/crossref.ts";
import { direct } from "../../src/resolve/direct.ts";
import { doaj } from "../../src/resolve/doaj.ts";
import { doiResolver } from "../../src/resolve/doi.ts";
import { europepmc } from "../../src/resolve/europepmc.ts";
import { openalex } from "../../src/resolve/openalex.ts";
import { pmc } from "../../src/resolve/pmc.ts";
import { isSkip, resolverSettings } from "../../src/resolve/resolver.ts";
import { semanticScholar } from "../../src/resolve/semantic-scholar.ts";
import { MalformedResponse } from "../../src/resolve/shape.ts";
import { unpaywall } from "../../src/resolve/unpaywall.ts";
import { mapWayback, waybackRequest } from "../../src/resolve/wayback.ts";
import { fixtureJson } from "../support/fixtures.ts";

const config = defaultConfig();
const settings = {
  ...resolverSettings(config),
  email: "lib@example.org",
  openalexApiKey: "k-123",
  s2ApiKey: "s2-key",
};
const bare = resolverSettings(config);
const work = (extra: Record<string, unknown> = {}) => ({ id: "w", ...extra });
const urls = (m: { candidates: { url: string; kind: string }[] }) =>
  m.candidates.map((c) => `${c.kind} ${c.url}`);

describe("direct", () => {
  test("own pdf_urls first, then arXiv on arxiv.org, then Europe PMC and PMC renders with one PMC prefix", () => {
    const seeds = direct.seeds(
      work({
        pdf_urls: ["https://x.org/a.pdf", "ftp://nope/a.pdf"],
        arxiv: "arXiv:2101.00001v2",
        pmcid: "pmc4221854",
      }),
      settings,
    );
    expect(seeds.map((s) => s.url)).toEqual([
      "https://x.org/a.pdf",
      "https://arxiv.org/pdf/2101.00001v2",
      "https://europepmc.org/articles/PMC4221854?pdf=render",
      "https://pmc.ncbi.nlm.nih.gov/articles/PMC4221854/pdf/",
    ]);
  });
  test("old-style arXiv ids keep their slash; nothing for a bare DOI", () => {
    expect(direct.seeds(work({ arxiv: "hep-th/9901001" }), settings).map((s) => s.url)).toEqual([
      "https://arxiv.org/pdf/hep-th/9901001",
    ]);
    expect(direct.seeds(work({ doi: "10.1/x" }), settings)).toEqual([]);
  });
});

describe("unpaywall", () => {
  test("request carries the DOI in the path and the contact email", () => {
    const r = unpaywall.request(work({ doi: "10.1038/nature12373" }), settings);
    expect(r).toEqual({ url: "https://api.unpaywall.org/v2/10.1038/nature12373?email=lib%40example.org" });
  });
  test("without a contact email it is skipped with a reason naming the setting", () => {
    const r = unpaywall.request(work({ doi: "10.1/x" }), bare);
    expect(isSkip(r) && r.skip).toContain("contact_email");
  });
  test("OA sample: best location first, every url_for_pdf, landing pages after, arXiv id and PMCID derived", () => {
    const m = unpaywall.map(fixtureJson("unpaywall-oa.json"), work());
    const pdfs = m.candidates.filter((c) => c.kind === "pdf").map((c) => c.url);
    expect(pdfs).toEqual([
      "https://dash.harvard.edu/bitstream/1/12285462/1/Nanometer-Scale%20Thermometry.pdf",
      "http://europepmc.org/articles/pmc4221854?pdf=render",
      "http://arxiv.org/pdf/1304.1068",
    ]);
    // Normalized: publishedVersion → published; the work's oa_status belongs to the best location.
    expect(m.candidates[0]?.provenance).toEqual({
      host_type: "repository",
      version: "published",
      oa_status: "green",
    });
    expect(m.candidates.findIndex((c) => c.kind === "landing")).toBe(3);
    expect(m.derived).toEqual({ arxiv: "1304.1068", pmcid: "PMC4221854" });
  });
  test("landing-only sample: no PDFs, both landing pages kept, PMCID from the PMC landing URL", () => {
    const m = unpaywall.map(fixtureJson("unpaywall-oa-landing-only.json"), work());
    expect(urls(m)).toEqual([
      "landing https://doi.org/10.1016/j.tmaid.2020.101663",
      "landing https://www.ncbi.nlm.nih.gov/pmc/articles/PMC7151271",
    ]);
    expect(m.derived.pmcid).toBe("PMC7151271");
  });
  test("closed sample: no candidates, noted as closed", () => {
    const m = unpaywall.map(fixtureJson("unpaywall-closed.json"), work());
    expect(m.candidates).toEqual([]);
    expect(m.note).toContain("closed");
  });
  test("a non-object answer is malformed", () => {
    expect(() => unpaywall.map([1, 2], work())).toThrow(MalformedResponse);
  });
});

describe("crossref", () => {
  test("request URL-encodes the DOI and adds mailto", () => {
    expect(crossref.request(work({ doi: "10.1038/srep16696" }), settings)).toEqual({
      url: "https://api.crossref.org/works/10.1038%2Fsrep16696?mailto=lib%40example.org",
    });
  });
  test("PDF links (vor) first, text/html TDM link skipped, resource.primary as landing", () => {
    const m = crossref.map(fixtureJson("crossref-work-with-pdf-link.json"), work());
    expect(urls(m)).toEqual([
      "pdf https://www.nature.com/articles/srep16696.pdf",
      "landing https://www.nature.com/articles/srep16696",
    ]);
    // The licence of the link's content version, as a short name with its URL kept.
    expect(m.candidates[0]?.provenance).toEqual({
      license: "cc-by",
      license_url: "https://creativecommons.org/licenses/by/4.0",
      version: "published",
      host_type: "publisher",
      content_version: "vor",
      intended_application: "text-mining",
    });
  });
  test("an `unspecified` link is a candidate, tried after application/pdf ones", () => {
    const m = crossref.map(fixtureJson("crossref-work-unspecified-link.json"), work());
    expect(urls(m)).toEqual([
      "pdf http://dx.plos.org/10.1371/journal.pone.0033693",
      "landing https://dx.plos.org/10.1371/journal.pone.0033693",
    ]);
    const mixed = crossref.map(
      {
        message: {
          link: [
            { URL: "https://p/u", "content-type": "unspecified", "content-version": "vor" },
            { URL: "https://p/tdm.xml", "content-type": "text/xml", "content-version": "vor" },
            { URL: "https://p/am.pdf", "content-type": "application/pdf", "content-version": "am" },
            { URL: "https://p/tdm.txt", "content-type": "text/plain", "content-version": "vor" },
            { URL: "https://p/vor.pdf", "content-type": "application/pdf", "content-version": "vor" },
          ],
        },
      },
      work(),
    );
    expect(mixed.candidates.map((c) => c.url)).toEqual([
      "https://p/vor.pdf",
      "https://p/am.pdf",
      "https://p/u",
    ]);
  });
  test("no `link` key: only the landing page", () => {
    const m = crossref.map(fixtureJson("crossref-work-no-link.json"), work());
    expect(urls(m)).toEqual([
      "landing http://services.igi-global.com/resolvedoi/resolve.aspx?doi=10.4018/978-1-4666-9588-7.les2",
    ]);
  });
  test("an envelope without `message` is malformed", () => {
    expect(() => crossref.map({ status: "ok" }, work())).toThrow(MalformedResponse);
  });
});

describe("europepmc", () => {
  test("DOI query with resultType=core; PMCID and PMID fallbacks", () => {
    const byDoi = europepmc.request(work({ doi: "10.1002/hpja.70059" }), settings);
    expect(byDoi).toEqual({
      url: "https://www.ebi.ac.uk/europepmc/webservices/rest/search?query=DOI%3A%2210.1002%2Fhpja.70059%22&format=json&resultType=core&pageSize=3",
    });
    const byPmid = europepmc.request(work({ pmid: "123" }), settings);
    expect(!isSkip(byPmid) && decodeURIComponent(byPmid.url)).toContain("query=EXT_ID:123 AND SRC:MED");
    expect(isSkip(europepmc.request(work(), settings))).toBe(true);
  });
  test("hit sample: OA and Free PDFs, not subscription or html; first PMCID derived", () => {
    const m = europepmc.map(fixtureJson("europepmc-search-hit.json"), work());
    expect(m.candidates.map((c) => c.url)).toEqual([
      "https://europepmc.org/articles/PMC12120539?pdf=render",
      "https://europepmc.org/articles/PMC12124214?pdf=render",
    ]);
    expect(m.derived).toEqual({ pmcid: "PMC12120539" });
  });
  test("empty sample: not indexed", () => {
    const m = europepmc.map(fixtureJson("europepmc-search-empty.json"), work());
    expect(m).toEqual({ candidates: [], derived: {}, note: "not indexed" });
  });
  test("an errCode body (HTTP 200) has no candidates and says why; no resultList is malformed", () => {
    expect(europepmc.map({ errCode: 500, errMsg: "boom" }, work()).note).toBe("error: boom");
    expect(() => europepmc.map({ hitCount: 1 }, work())).toThrow(MalformedResponse);
  });
});

describe("pmc idconv", () => {
  test("always sends idtype (doi or pmid), tool and email; skipped when the PMCID is known", () => {
    const r = pmc.request(work({ doi: "10.1038/ng.590" }), settings);
    expect(!isSkip(r) && r.url).toBe(
      "https://pmc.ncbi.nlm.nih.gov/tools/idconv/api/v1/articles/?ids=10.1038%2Fng.590&idtype=doi&format=json&tool=docstokg&email=lib%40example.org",
    );
    const p = pmc.request(work({ pmid: "33163378" }), settings);
    expect(!isSkip(p) && new URL(p.url).searchParams.get("idtype")).toBe("pmid");
    expect(isSkip(pmc.request(work({ doi: "10.1/x", pmcid: "PMC1" }), settings))).toBe(true);
  });
  test("legacy and v1 samples give the PMCID (integer pmid tolerated); error record gives none", () => {
    expect(pmc.map(fixtureJson("pmc-idconv.json"), work()).derived).toEqual({ pmcid: "PMC2883744" });
    expect(pmc.map(fixtureJson("pmc-idconv-v1-articles.json"), work()).derived).toEqual({
      pmcid: "PMC7605294",
    });
    const miss = pmc.map(
      { status: "ok", records: [{ doi: "10.1/x", status: "error", errmsg: "invalid article id" }] },
      work(),
    );
    expect(miss).toEqual({ candidates: [], derived: {}, note: "invalid article id" });
    expect(pmc.map(fixtureJson("pmc-idconv-v1-articles-error.json"), work()).derived).toEqual({});
  });
});

describe("semantic scholar", () => {
  test("request asks for the three fields and carries x-api-key when configured", () => {
    expect(semanticScholar.request(work({ doi: "10.2139/ssrn.2250500" }), settings)).toEqual({
      url: "https://api.semanticscholar.org/graph/v1/paper/DOI:10.2139%2Fssrn.2250500?fields=openAccessPdf,externalIds,isOpenAccess",
      headers: { "x-api-key": "s2-key" },
    });
    const anon = semanticScholar.request(work({ doi: "10.1/x" }), bare);
    expect(!isSkip(anon) && anon.headers).toBeUndefined();
  });
  test("open sample: the openAccessPdf URL", () => {
    const m = semanticScholar.map(fixtureJson("semanticscholar-paper.json"), work());
    expect(urls(m)).toEqual([
      "pdf https://dspace.mit.edu/bitstream/1721.1/95941/1/Banerjee_The%20miracle.pdf",
    ]);
    // `status` is the OA colour, not a version.
    expect(m.candidates[0]?.provenance).toEqual({ oa_status: "green" });
  });
  test('closed sample: url "" means closed, but the arXiv id still feeds direct', () => {
    const m = semanticScholar.map(fixtureJson("semanticscholar-paper-closed.json"), work());
    expect(m.candidates).toEqual([]);
    expect(m.derived).toEqual({ arxiv: "2412.00678" });
    expect(semanticScholar.map({ paperId: "x", openAccessPdf: null }, work()).candidates).toEqual([]);
  });
  test("a PubMedCentral id without prefix becomes one PMCID", () => {
    const m = semanticScholar.map({ externalIds: { PubMedCentral: "2883744", PubMed: "20495566" } }, work());
    expect(m.derived).toEqual({ pmcid: "PMC2883744", pmid: "20495566" });
  });
});

describe("doaj", () => {
  test('the query "doi:<doi>" is URL-encoded into the path', () => {
    expect(doaj.request(work({ doi: "10.1186/1750-0680-4-11" }), settings)).toEqual({
      url: "https://doaj.org/api/search/articles/doi%3A10.1186%2F1750-0680-4-11?page=1&pageSize=3",
    });
  });
  test("sample: an HTML fulltext link is a landing candidate", () => {
    const m = doaj.map(fixtureJson("doaj-search.json"), work());
    expect(urls(m)).toEqual(["landing http://www.cbmjournal.com/content/4/1/11"]);
    expect(m.candidates[0]?.provenance?.source).toBe("Carbon Balance and Management");
  });
  test("PDF links come before HTML ones; other types and non-fulltext links are ignored", () => {
    const m = doaj.map(
      {
        total: 1,
        results: [
          {
            bibjson: {
              link: [
                { url: "https://j/a", type: "fulltext", content_type: "HTML" },
                { url: "https://j/a.epub", type: "fulltext", content_type: "ePUB" },
                { url: "https://j/a.pdf", type: "fulltext", content_type: "PDF" },
                { url: "https://j/x.pdf", type: "related", content_type: "PDF" },
              ],
            },
          },
        ],
      },
      work(),
    );
    expect(urls(m)).toEqual(["pdf https://j/a.pdf", "landing https://j/a"]);
    expect(doaj.map({ total: 0, results: [] }, work()).note).toBe("not in DOAJ");
  });
});

describe("openalex", () => {
  test("skipped without an API key; the key goes in api_key; 403 (too fast) is back-pressure", () => {
    expect(isSkip(openalex.request(work({ doi: "10.1/x" }), bare))).toBe(true);
    expect(openalex.request(work({ doi: "10.1186/1744-8603-1-8" }), settings)).toEqual({
      url: "https://api.openalex.org/works/doi:10.1186%2F1744-8603-1-8?api_key=k-123",
      backPressure: [403],
    });
  });
  test("OA sample: pdf_url of best/primary and oa_url, OA landing pages, PMCID derived with the PMC prefix", () => {
    const m = openalex.map(fixtureJson("openalex-work-oa.json"), work());
    const pdfs = m.candidates.filter((c) => c.kind === "pdf").map((c) => c.url);
    expect(pdfs).toEqual([
      "https://globalizationandhealth.biomedcentral.com/counter/pdf/10.1186/1744-8603-1-8",
    ]);
    const landings = m.candidates.filter((c) => c.kind === "landing").map((c) => c.url);
    expect(landings).toContain("https://www.ncbi.nlm.nih.gov/pmc/articles/1156926");
    expect(landings).not.toContain("https://pubmed.ncbi.nlm.nih.gov/15953397"); // is_oa false
    expect(m.derived).toEqual({ pmcid: "PMC1156926", pmid: "15953397" });
    expect(m.candidates.some((c) => c.url.includes("content.openalex.org"))).toBe(false); // paid content call
  });
  test("closed sample: no candidates", () => {
    const m = openalex.map(fixtureJson("openalex-work-closed.json"), work());
    expect(m.candidates).toEqual([]);
    expect(m.note).toContain("closed");
  });
});

describe("doi", () => {
  test("one landing candidate at <base>/<doi>", () => {
    expect(doiResolver.seeds(work({ doi: "10.1016/s0140-6736(24)02716-8" }), settings)).toEqual([
      { url: "https://doi.org/10.1016/s0140-6736(24)02716-8", kind: "landing", provenance: {} },
    ]);
  });
});

describe("wayback", () => {
  test("availability request encodes the URL", () => {
    expect(waybackRequest("https://h/a.pdf?x=1", settings).url).toBe(
      "https://archive.org/wayback/available?url=https%3A%2F%2Fh%2Fa.pdf%3Fx%3D1",
    );
  });
  test('sample: status "200" → the id_ capture of the archived original on the capture host', () => {
    const m = mapWayback(
      fixtureJson("wayback-available.json"),
      "github.com/mcallisto/scalacv",
      "pdf",
      settings,
    );
    expect(urls(m)).toEqual([
      "pdf https://web.archive.org/web/20180611035138id_/https://github.com/mcallisto/scalacv",
    ]);
    expect(m.candidates[0]?.provenance).toEqual({
      original_url: "github.com/mcallisto/scalacv",
      timestamp: "20180611035138",
    });
  });
  test("empty archived_snapshots means none; a non-200 or numeric status is not usable", () => {
    expect(mapWayback(fixtureJson("wayback-available-empty.json"), "x", "pdf", settings).note).toBe(
      "not archived",
    );
    const closest = {
      available: true,
      url: "http://web.archive.org/web/2019/https://h/a.pdf",
      timestamp: "2019",
    };
    for (const status of ["404", 200]) {
      const m = mapWayback(
        { archived_snapshots: { closest: { ...closest, status } } },
        "https://h/a.pdf",
        "pdf",
        settings,
      );
      expect(m.candidates).toEqual([]);
    }
    expect(() => mapWayback("nope", "x", "pdf", settings)).toThrow(MalformedResponse);
  });
});

describe("identifiers in resolver URLs", () => {
  const hostile = [
    "10.1234/../../../../evil/path",
    "10.1234/./x",
    "10.1234/.%2e/evil",
    "10.1234/%2e%2e/%2E%2e/evil",
    "10.1234/..%2f..%2fevil",
    "10.1234/..\\..\\evil",
    "10.1234/x?y=1#z",
    "10.1234/a/../b",
  ];
  const hasDotSegment = (doi: string) => doi.split("/").some((s) => s === "." || s === "..");

  /** The parsed URL's path, after the URL parser's own dot-segment removal and decoding. */
  function parsedPath(url: string, base: string): string {
    const u = new URL(url);
    expect(u.origin).toBe(new URL(base).origin);
    expect(u.pathname.split("/").some((s) => s === "." || s === ".." || /^(\.|%2e){1,2}$/i.test(s))).toBe(
      false,
    );
    return u.pathname;
  }

  const oneSegment = [
    { resolver: crossref, prefix: "/works/" },
    { resolver: doaj, prefix: "/search/articles/doi%3A" },
    { resolver: semanticScholar, prefix: "/paper/DOI:" },
    { resolver: openalex, prefix: "/works/doi:" },
  ] as const;

  for (const { resolver, prefix } of oneSegment) {
    test(`${resolver.name}: the whole DOI is one path segment naming exactly that DOI`, () => {
      for (const doi of hostile) {
        const req = resolver.request(work({ doi }), settings);
        if (isSkip(req)) throw new Error(`${resolver.name} skipped ${doi}: ${req.skip}`);
        const base = config.resolvers[resolver.name].base_url;
        const path = parsedPath(req.url, base);
        const expected = `${new URL(base).pathname.replace(/\/$/, "")}${prefix}`;
        expect(path.slice(0, expected.length)).toBe(expected);
        expect(decodeURIComponent(path.slice(expected.length))).toBe(doi);
        expect(new URL(req.url).hash).toBe("");
      }
    });
  }

  test("unpaywall: DOIs with a dot segment are skipped; the others keep their `/` and name exactly that DOI", () => {
    for (const doi of hostile) {
      const req = unpaywall.request(work({ doi }), settings);
      if (hasDotSegment(doi)) {
        expect(req).toEqual({ skip: "identifier has a `.` or `..` path segment" });
        continue;
      }
      if (isSkip(req)) throw new Error(`unpaywall skipped ${doi}: ${req.skip}`);
      const path = parsedPath(req.url, config.resolvers.unpaywall.base_url);
      expect(path.startsWith("/v2/10.1234/")).toBe(true);
      expect(path.slice(4).split("/").map(decodeURIComponent).join("/")).toBe(doi);
      expect(new URL(req.url).searchParams.get("email")).toBe("lib@example.org");
    }
  });

  test("doi: DOIs with a dot segment give no landing page; the others name exactly that DOI", () => {
    for (const doi of hostile) {
      const seeds = doiResolver.seeds(work({ doi }), settings);
      if (hasDotSegment(doi)) {
        expect(seeds).toEqual([]);
        continue;
      }
      expect(seeds).toHaveLength(1);
      const path = parsedPath(seeds[0]?.url as string, config.resolvers.doi.base_url);
      expect(path.slice(1).split("/").map(decodeURIComponent).join("/")).toBe(doi);
    }
  });

  test("pmc sends the DOI as a query parameter, never in the path", () => {
    for (const doi of hostile) {
      const req = pmc.request(work({ doi }), settings);
      if (isSkip(req)) throw new Error(`pmc skipped ${doi}`);
      const u = new URL(req.url);
      expect(u.pathname).toBe(new URL(config.resolvers.pmc.base_url).pathname);
      expect(u.searchParams.get("ids")).toBe(doi);
    }
  });

  test("europepmc quotes the DOI inside its query parameter", () => {
    for (const doi of hostile) {
      const req = europepmc.request(work({ doi }), settings);
      if (isSkip(req)) throw new Error(`europepmc skipped ${doi}`);
      const u = new URL(req.url);
      expect(u.pathname).toBe(
        `${new URL(config.resolvers.europepmc.base_url).pathname.replace(/\/$/, "")}/search`,
      );
      expect(u.searchParams.get("query")).toContain(doi);
    }
  });
});
