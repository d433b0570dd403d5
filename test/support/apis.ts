// The simulated scholarly APIs (Unpaywall, Crossref, Europe PMC, the PMC ID converter, Semantic
// Scholar, DOAJ, OpenAlex, CORE, Zenodo, figshare, HAL, OSF, OpenAIRE, doi.org, Wayback
// availability and captures) plus the publisher and
// repository sites, as loopback hosts of the simulated web answering in the exact shape of the
// recorded samples in test/fixtures/api, driven by the catalogue's known truth.
//
//   await using web = await startWeb();
//   const sim = await startApis(web, buildCatalogue());
//   const config = sim.configInput();   // base URLs → loopback, allow_private 127.0.0.0/8
import type { ConfigInput } from "../../src/config/schema.ts";
import type { Loc, Page, SiteName, TestWork } from "./catalogue.ts";
import { makePdf, utf8 } from "./pdf.ts";
import { bytesResponse, type SimHost, type SimWeb } from "./web.ts";

export const SERVICE_NAMES = [
  "unpaywall",
  "crossref",
  "europepmc",
  "pmc",
  "semantic_scholar",
  "doaj",
  "openalex",
  "core",
  "zenodo",
  "figshare",
  "hal",
  "osf",
  "openaire",
  "doi",
  "wayback",
  "captures",
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
const SITE_NAMES: SiteName[] = ["pub", "repo", "flaky", "wall", "arxiv", "epmcweb", "pmcweb"];

/** Paths of the services under their hosts (the base URLs point there). */
const BASE_PATH: Record<ServiceName, string> = {
  unpaywall: "",
  crossref: "",
  europepmc: "/europepmc/webservices/rest",
  pmc: "/tools/idconv/api/v1/articles/",
  semantic_scholar: "/graph/v1",
  doaj: "/api",
  openalex: "",
  core: "/v3",
  zenodo: "/api",
  figshare: "/v2",
  hal: "",
  osf: "/v2",
  openaire: "",
  doi: "",
  wayback: "",
  captures: "",
};

/** A fixed capture timestamp for everything the archive holds. */
export const CAPTURE_TIMESTAMP = "20240115093000";

export interface SimApis {
  services: Record<ServiceName, SimHost>;
  sites: Record<SiteName, SimHost>;
  works: TestWork[];
  /** The absolute URL of a catalogue location. */
  url(loc: Loc): string;
  /** The service's base URL (for `resolvers.<name>.base_url`). */
  baseUrl(name: ServiceName): string;
  /** A config input pointing every resolver at the loopback hosts, loopback allowed, fast rates. */
  configInput(): ConfigInput;
  /** Requests received by all API hosts (to assert what was asked). */
  apiRequests(): { service: ServiceName; path: string }[];
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  bytesResponse(utf8(JSON.stringify(body)), { "content-type": "application/json", ...headers }, status);
const plain = (text: string, status: number) =>
  bytesResponse(utf8(text), { "content-type": "text/plain" }, status);
const enc = encodeURIComponent;
const doiPath = (doi: string) => doi.split("/").map(enc).join("/");

export async function startApis(web: SimWeb, works: TestWork[]): Promise<SimApis> {
  const services = {} as Record<ServiceName, SimHost>;
  for (const name of SERVICE_NAMES)
    services[name] = await web.host({ name: `${name.replace("_", "-")}.api.test` });
  const sites = {} as Record<SiteName, SimHost>;
  for (const name of SITE_NAMES) sites[name] = await web.host({ name: `${name}.site.test` });
  const url = (l: Loc) => sites[l.host].url(l.path);
  const baseUrl = (name: ServiceName) => services[name].url(BASE_PATH[name]);

  // Sites: PDFs, landing pages, walls and failures.
  for (const w of works)
    for (const { at, page } of w.pages)
      servePage(sites[at.host], at.path.split("?")[0] ?? at.path, page, w, url);

  // Unpaywall: GET /v2/<doi>?email= (404 for unknown DOIs; 422 without email, as third parties report).
  for (const w of works) {
    const doi = w.ids.doi;
    if (!doi || !w.unpaywall) continue;
    services.unpaywall.route(`/v2/${doiPath(doi)}`, (req) =>
      new URL(req.url).searchParams.get("email")
        ? json(unpaywallRecord(doi, w, url, baseUrl("doi")))
        : json({ HTTP_status_code: 422, error: true, message: "email address required" }, 422),
    );
  }

  // Crossref: GET /works/<url-encoded doi>; unknown → 404 plain text.
  for (const w of works) {
    const doi = w.ids.doi;
    if (!doi || !w.crossref) continue;
    services.crossref.route(`/works/${enc(doi)}`, () =>
      json(crossrefRecord(doi, w, url, baseUrl("doi")), 200, CROSSREF_HEADERS),
    );
  }

  // Europe PMC: GET /search?query=DOI:"…" | PMCID:… | EXT_ID:… AND SRC:MED (resultType=core).
  services.europepmc.route(`${BASE_PATH.europepmc}/search`, (req) => {
    const q = new URL(req.url).searchParams;
    const query = q.get("query") ?? "";
    const w = findByQuery(works, query);
    const result = w?.europepmc ? [europepmcResult(w, url, baseUrl("doi"))] : [];
    return json({
      version: "6.9",
      hitCount: result.length,
      request: {
        queryString: query,
        resultType: q.get("resultType") ?? "lite",
        cursorMark: "*",
        pageSize: 3,
        sort: "",
        synonym: false,
      },
      resultList: { result },
    });
  });

  // PMC ID converter: ids + idtype; without idtype a DOI gets the real 400 body.
  services.pmc.route(BASE_PATH.pmc, (req) => {
    const q = new URL(req.url).searchParams;
    const id = q.get("ids") ?? "";
    const idtype = q.get("idtype");
    if (!idtype && !/^\d+$/.test(id))
      return json(
        {
          status: "error",
          http_status: "400",
          http_status_reason: "Bad Request",
          errors: [
            {
              message: "All values of query param `ids` must be PubMed IDs (Positive Integers).",
              code: "invalid_pmids",
            },
          ],
        },
        400,
      );
    const w = works.find((x) => (idtype === "pmid" ? x.ids.pmid === id : x.ids.doi === id));
    if (!w?.idconv)
      return json({
        status: "ok",
        records: [{ "requested-id": id, status: "error", errmsg: "invalid article id" }],
      });
    const record: Record<string, unknown> = { doi: w.ids.doi, pmcid: w.idconv, "requested-id": id };
    if (w.ids.pmid) record.pmid = Number(w.ids.pmid);
    return json({ status: "ok", records: [record] });
  });

  // Semantic Scholar: GET /graph/v1/paper/DOI:<doi>?fields=…; unknown → 404 JSON error.
  for (const w of works) {
    const doi = w.ids.doi;
    if (!doi) continue;
    const route = `${BASE_PATH.semantic_scholar}/paper/DOI:${enc(doi)}`;
    services.semantic_scholar.route(route, () =>
      w.s2 ? json(s2Record(doi, w, url)) : json({ error: `Paper with id DOI:${doi} not found` }, 404),
    );
  }

  // DOAJ: GET /api/search/articles/<url-encoded "doi:<doi>"> → envelope with results.
  for (const w of works) {
    const doi = w.ids.doi;
    if (!doi) continue;
    const query = `doi:${doi}`;
    services.doaj.route(`${BASE_PATH.doaj}/search/articles/${enc(query)}`, () =>
      json(doajEnvelope(query, w, url)),
    );
  }

  // OpenAlex: GET /works/doi:<doi>?api_key= (401 without a key, as since 2026-02).
  for (const w of works) {
    const doi = w.ids.doi;
    if (!doi || !w.openalex) continue;
    services.openalex.route(`/works/doi:${enc(doi)}`, (req) =>
      new URL(req.url).searchParams.get("api_key")
        ? json(openalexRecord(doi, w, url, baseUrl("doi")))
        : json({ error: "Invalid or missing API key", message: "An API key is required" }, 401),
    );
  }

  serveRepositories(services, works, url);

  // doi.org: 302 to the registered landing page with the "Handle Redirect" body; unknown → 404 HTML.
  for (const w of works) {
    const doi = w.ids.doi;
    if (!doi) continue;
    const target = w.doiTarget ? url(w.doiTarget) : undefined;
    services.doi.route(`/${doiPath(doi)}`, () =>
      target
        ? bytesResponse(
            utf8(
              `<html><head><title>Handle Redirect</title></head>\n<body><a href="${target}">${target}</a></body></html>`,
            ),
            { "content-type": "text/html;charset=utf-8", location: target },
            302,
          )
        : bytesResponse(
            utf8("<!DOCTYPE html><html><head><title>Error: DOI Not Found</title></head></html>"),
            { "content-type": "text/html;charset=utf-8" },
            404,
          ),
    );
  }

  // Wayback: availability answers and `id_` captures (original bytes: PDFs, or pages as they were).
  const archived = new Map<string, { w: TestWork; page: Page }>();
  for (const w of works)
    for (const l of w.archived ?? []) archived.set(url(l), { w, page: l.page ?? { kind: "pdf" } });
  services.wayback.route("/wayback/available", (req) => {
    const asked = new URL(req.url).searchParams.get("url") ?? "";
    if (!archived.has(asked)) return json({ url: asked, archived_snapshots: {} });
    return json({
      url: asked,
      archived_snapshots: {
        closest: {
          status: "200",
          available: true,
          url: `http://web.archive.org/web/${CAPTURE_TIMESTAMP}/${asked}`,
          timestamp: CAPTURE_TIMESTAMP,
        },
      },
    });
  });
  for (const [original, { w, page }] of archived)
    servePage(services.captures, `/web/${CAPTURE_TIMESTAMP}id_/${original}`, page, w, url);

  return {
    services,
    sites,
    works,
    url,
    baseUrl,
    configInput(): ConfigInput {
      return {
        contact_email: "librarian@example.org",
        network: {
          allow_private: ["127.0.0.0/8"],
          metadata_retries: 0,
          connect_timeout_s: 5,
          idle_timeout_s: 5,
        },
        politeness: {
          rates: { metadata: "1000/s", landing: "1000/s", artifact: "1000/s" },
          burst: 50,
          max_wait_s: 10,
          max_per_host: 8,
          robots: true,
        },
        resolvers: {
          direct: {
            base_url: sites.arxiv.url(""),
            europepmc_base_url: sites.epmcweb.url(""),
            pmc_base_url: sites.pmcweb.url(""),
          },
          unpaywall: { base_url: baseUrl("unpaywall") },
          crossref: { base_url: baseUrl("crossref") },
          europepmc: { base_url: baseUrl("europepmc") },
          pmc: { base_url: baseUrl("pmc") },
          semantic_scholar: { base_url: baseUrl("semantic_scholar") },
          doaj: { base_url: baseUrl("doaj") },
          openalex: { base_url: baseUrl("openalex"), api_key: "test-openalex-key" },
          core: { base_url: baseUrl("core"), api_key: "test-core-key" },
          zenodo: { base_url: baseUrl("zenodo") },
          figshare: { base_url: baseUrl("figshare") },
          // Off by default like in production; tests of these sources turn them on.
          hal: { base_url: baseUrl("hal") },
          osf: { base_url: baseUrl("osf") },
          openaire: { base_url: baseUrl("openaire") },
          doi: { base_url: baseUrl("doi") },
          wayback: { base_url: baseUrl("wayback"), capture_base_url: baseUrl("captures") },
        },
      };
    },
    apiRequests() {
      return SERVICE_NAMES.flatMap((service) =>
        services[service].requests.map((r) => ({ service, path: r.path })),
      );
    },
  };
}

const CROSSREF_HEADERS = {
  "x-api-pool": "polite",
  "x-rate-limit-limit": "10",
  "x-rate-limit-interval": "1s",
  "x-concurrency-limit": "3",
};

function servePage(host: SimHost, path: string, page: Page, w: TestWork, url: (l: Loc) => string): void {
  const href = (h: string | Loc | undefined) =>
    h === undefined ? undefined : typeof h === "string" ? h : url(h);
  switch (page.kind) {
    case "pdf":
      host.pdf(path, makePdf(`work ${w.n}: ${w.scenario}`));
      return;
    case "landing":
      host.landing(path, {
        title: `Work ${w.n} (${w.scenario})`,
        doi: w.ids.doi,
        pdfUrl: href(page.pdfUrl),
        alternatePdf: href(page.alternatePdf),
        base: page.base,
        anchors: [
          { href: "/about", text: "About this journal" },
          ...(page.anchors ?? []).map((a) => ({ href: href(a.href) ?? "", text: a.text })),
        ],
      });
      return;
    case "captcha":
      host.captcha(path, 200);
      return;
    case "status":
      host.route(path, () => plain(`status ${page.status}\n`, page.status));
      return;
    case "garbage":
      host.route(path, () =>
        bytesResponse(utf8("GIF89a not a pdf at all ".repeat(200)), { "content-type": "application/pdf" }),
      );
      return;
  }
}

function location(o: {
  pdf?: string;
  landing?: string;
  hostType: string;
  version: string;
  license?: string | null;
  pmh?: string;
  best: boolean;
}) {
  return {
    endpoint_id: null,
    evidence: o.hostType === "repository" ? "oa repository (via OAI-PMH doi match)" : "open (via free pdf)",
    host_type: o.hostType,
    is_best: o.best,
    license: o.license !== undefined ? o.license : o.hostType === "publisher" ? "cc-by" : null,
    pmh_id: o.pmh ?? null,
    repository_institution: null,
    updated: "2026-01-01T00:00:00.000000",
    url: o.pdf ?? o.landing,
    url_for_landing_page: o.landing ?? null,
    url_for_pdf: o.pdf ?? null,
    version: o.version,
  };
}

function unpaywallRecord(doi: string, w: TestWork, url: (l: Loc) => string, doiBase: string) {
  const u = w.unpaywall ?? {};
  const pdf = u.pdf ? url(u.pdf) : undefined;
  const landing = u.landing ? url(u.landing) : undefined;
  const locs =
    pdf || landing
      ? [
          location({
            pdf,
            landing,
            hostType: u.hostType ?? "repository",
            version: u.version ?? "acceptedVersion",
            license: u.license,
            pmh: u.pmh_id,
            best: true,
          }),
        ]
      : [];
  return {
    best_oa_location: locs[0] ?? null,
    data_standard: 2,
    doi,
    doi_url: `${doiBase}/${doi}`,
    first_oa_location: locs[0] ?? null,
    genre: "journal-article",
    has_repository_copy: locs.length > 0,
    is_oa: locs.length > 0,
    is_paratext: false,
    journal_is_in_doaj: false,
    journal_is_oa: false,
    journal_issn_l: "1234-5678",
    journal_issns: "1234-5678",
    journal_name: "Journal of Simulated Results",
    oa_locations: locs,
    oa_locations_embargoed: [],
    oa_status: locs.length ? (u.oaStatus ?? "green") : "closed",
    published_date: "2024-01-01",
    publisher: "Simulated Press",
    title: `Work ${w.n}`,
    updated: "2026-01-01T00:00:00.000000",
    year: 2024,
    z_authors: [{ family: "Lovelace", given: "Ada", sequence: "first" }],
  };
}

function crossrefRecord(doi: string, w: TestWork, url: (l: Loc) => string, doiBase: string) {
  const c = w.crossref ?? {};
  const message: Record<string, unknown> = {
    indexed: { "date-parts": [[2026, 1, 1]], "date-time": "2026-01-01T00:00:00Z", timestamp: 1767225600000 },
    "reference-count": 0,
    publisher: "Simulated Press",
    DOI: doi,
    type: "journal-article",
    title: [`Work ${w.n}`],
    prefix: doi.split("/")[0],
    member: "99999",
    "container-title": ["Journal of Simulated Results"],
    URL: `${doiBase}/${doi}`,
    score: 1,
  };
  if (c.links)
    message.link = c.links.map((l) => ({
      URL: url(l.at),
      "content-type": l.type,
      "content-version": l.version,
      "intended-application": l.type === "text/xml" ? "text-mining" : "similarity-checking",
    }));
  if (c.primary) message.resource = { primary: { URL: url(c.primary) } };
  return { status: "ok", "message-type": "work", "message-version": "1.0.0", message };
}

function findByQuery(works: TestWork[], query: string): TestWork | undefined {
  const doi = /^DOI:"(.+)"$/.exec(query)?.[1];
  if (doi) return works.find((w) => w.ids.doi === doi.toLowerCase());
  const pmcid = /^PMCID:(PMC\d+)$/i.exec(query)?.[1];
  if (pmcid)
    return works.find(
      (w) => w.ids.pmcid === pmcid.toUpperCase() || w.europepmc?.pmcid === pmcid.toUpperCase(),
    );
  const pmid = /^EXT_ID:(\d+) AND SRC:MED$/.exec(query)?.[1];
  if (pmid) return works.find((w) => w.ids.pmid === pmid);
  return undefined;
}

function europepmcResult(w: TestWork, url: (l: Loc) => string, doiBase: string) {
  const e = w.europepmc ?? {};
  const fullTextUrl: Record<string, string>[] = [];
  if (w.ids.doi)
    fullTextUrl.push({
      availability: "Subscription required",
      availabilityCode: "S",
      documentStyle: "doi",
      site: "DOI",
      url: `${doiBase}/${w.ids.doi}`,
    });
  if (e.pdf)
    fullTextUrl.push({
      availability: "Open access",
      availabilityCode: "OA",
      documentStyle: "pdf",
      site: "Europe_PMC",
      url: url(e.pdf),
    });
  const r: Record<string, unknown> = {
    id: String(30000000 + w.n),
    source: "MED",
    pmid: String(30000000 + w.n),
    doi: w.ids.doi,
    title: `Work ${w.n}`,
    isOpenAccess: e.pdf ? "Y" : "N",
    inEPMC: e.pmcid ? "Y" : "N",
    inPMC: e.pmcid ? "Y" : "N",
    hasPDF: e.pdf ? "Y" : "N",
    fullTextUrlList: { fullTextUrl },
  };
  if (e.pmcid) r.pmcid = e.pmcid;
  return r;
}

function s2Record(doi: string, w: TestWork, url: (l: Loc) => string) {
  const s = w.s2 ?? {};
  const externalIds: Record<string, unknown> = { DOI: doi, CorpusId: 100000 + w.n };
  if (s.arxiv) externalIds.ArXiv = s.arxiv;
  return {
    paperId: `sim${w.n}`,
    externalIds,
    isOpenAccess: Boolean(s.pdf),
    openAccessPdf: s.pdf
      ? { url: url(s.pdf), status: "GREEN", license: "CCBY", disclaimer: "Notice: simulated" }
      : {
          url: "",
          status: null,
          license: null,
          disclaimer: `Notice: Paper or abstract available at https://arxiv.org/abs/${s.arxiv ?? ""}`,
        },
  };
}

function doajEnvelope(query: string, w: TestWork, url: (l: Loc) => string) {
  const d = w.doaj;
  const link: Record<string, string>[] = [];
  if (d?.pdf) link.push({ url: url(d.pdf), type: "fulltext", content_type: "PDF" });
  if (d?.html) link.push({ url: url(d.html), type: "fulltext", content_type: "HTML" });
  const results = d
    ? [
        {
          last_updated: "2026-01-01T00:00:00Z",
          bibjson: {
            identifier: [{ type: "doi", id: w.ids.doi }],
            journal: {
              title: "Journal of Simulated Results",
              publisher: "Simulated Press",
              language: ["EN"],
            },
            title: `Work ${w.n}`,
            year: "2024",
            link,
          },
          admin: { in_doaj: true, seal: false },
          created_date: "2026-01-01T00:00:00Z",
          id: `doaj${w.n}`,
        },
      ]
    : [];
  return { total: results.length, page: 1, pageSize: 3, timestamp: "2026-01-01T00:00:00Z", query, results };
}

function openalexRecord(doi: string, w: TestWork, url: (l: Loc) => string, doiBase: string) {
  const o = w.openalex ?? {};
  const source = {
    id: "https://openalex.org/S1",
    display_name: "Journal of Simulated Results",
    type: "journal",
  };
  const primary = {
    id: `doi:${doi}`,
    is_oa: Boolean(o.pdf),
    landing_page_url: `${doiBase}/${doi}`,
    pdf_url: o.pdf ? url(o.pdf) : null,
    source,
    license: o.pdf ? "cc-by" : null,
    version: "publishedVersion",
  };
  const locations: Record<string, unknown>[] = [primary];
  if (o.pmcLocation)
    locations.push({
      id: `pmh:oai:pubmedcentral.nih.gov:${o.pmcLocation}`,
      is_oa: true,
      // The real records point at NCBI's article page without the PMC prefix; here it lives on the
      // simulated PMC site and has no PDF link, so only the derived PMCID leads to the file.
      landing_page_url: null,
      pdf_url: null,
      source: { id: "https://openalex.org/S2", display_name: "PubMed Central", type: "repository" },
      license: "cc-by",
      version: "submittedVersion",
    });
  return {
    id: `https://openalex.org/W${1000 + w.n}`,
    doi: `${doiBase}/${doi}`,
    display_name: `Work ${w.n}`,
    publication_year: 2024,
    ids: { openalex: `https://openalex.org/W${1000 + w.n}`, doi: `${doiBase}/${doi}` },
    open_access: {
      is_oa: Boolean(o.pdf),
      oa_status: o.pdf ? "gold" : "closed",
      oa_url: o.pdf ? url(o.pdf) : null,
    },
    primary_location: primary,
    best_oa_location: o.pdf ? primary : null,
    locations,
    has_content: { pdf: false, grobid_xml: false },
  };
}

/** The DOI inside a quoted field query such as `doi:"10.1/x"` (Lucene, Solr, figshare's search_for). */
const quotedDoiOf = (q: string | null | undefined) => /"([^"]+)"/.exec(q ?? "")?.[1]?.toLowerCase();

/**
 * The repository sources, each answering in the shape of its sample in test/fixtures/api (see
 * SOURCES.md there): CORE (bearer key required), Zenodo, figshare (a POST search), HAL, OSF, OpenAIRE.
 */
function serveRepositories(
  services: Record<ServiceName, SimHost>,
  works: TestWork[],
  url: (l: Loc) => string,
): void {
  const byDoi = (doi: string | undefined) => (doi ? works.find((w) => w.ids.doi === doi) : undefined);

  services.core.route(`${BASE_PATH.core}/search/works`, (req) => {
    if (!/^Bearer \S+/.test(req.headers.get("authorization") ?? ""))
      return json({ message: "Invalid or missing API key" }, 401);
    const w = byDoi(quotedDoiOf(new URL(req.url).searchParams.get("q")));
    const results = w?.core?.pdf ? [coreWork(w, url(w.core.pdf))] : [];
    return json({ totalHits: results.length, limit: 3, offset: 0, scrollId: null, results });
  });

  services.zenodo.route(`${BASE_PATH.zenodo}/records/`, (req) => {
    const q = new URL(req.url).searchParams.get("q");
    const w = byDoi(quotedDoiOf(q));
    const hits = w?.zenodo?.pdf ? [zenodoRecord(w, url(w.zenodo.pdf))] : [];
    return json({ hits: { hits, total: hits.length }, aggregations: {}, links: { self: req.url } });
  });

  services.figshare.route(`${BASE_PATH.figshare}/articles/search`, async (req) => {
    if (req.method !== "POST") return json({ message: "Method Not Allowed", code: "MethodNotAllowed" }, 405);
    const asked = (await req.json().catch(() => ({}))) as { search_for?: string };
    const w = byDoi(quotedDoiOf(asked.search_for));
    return json(w?.figshare?.pdf ? [figshareArticle(w, url(w.figshare.pdf))] : []);
  });

  services.hal.route("/search/", (req) => {
    const w = byDoi(quotedDoiOf(new URL(req.url).searchParams.get("q")));
    const docs = w?.hal?.pdf
      ? [
          {
            fileMain_s: url(w.hal.pdf),
            file_s: [url(w.hal.pdf)],
            licence_s: w.hal.licence ?? null,
            uri_s: `https://hal.science/hal-0${1000000 + w.n}`,
            docType_s: "ART",
          },
        ]
      : [];
    return json({ response: { numFound: docs.length, start: 0, numFoundExact: true, docs } });
  });

  services.osf.route(`${BASE_PATH.osf}/preprints/`, (req) => {
    const doi = new URL(req.url).searchParams.get("filter[doi]")?.toLowerCase();
    const w = byDoi(doi);
    const data = w?.osf?.pdf ? [osfPreprint(w, url(w.osf.pdf))] : [];
    return json({
      data,
      meta: { total: data.length, per_page: 10, version: "2.0" },
      links: { self: req.url },
    });
  });

  services.openaire.route("/search/publications", (req) => {
    const doi = new URL(req.url).searchParams.get("doi")?.toLowerCase();
    const w = byDoi(doi);
    const found = w?.openaire?.pdf ? openaireResult(w, url(w.openaire.pdf)) : null;
    const n = (x: number) => ({ $: x });
    return json({
      response: {
        header: {
          query: { $: `pid exact "${doi}"` },
          locale: { $: "en_US" },
          size: n(10),
          page: n(1),
          total: n(found ? 1 : 0),
        },
        results: found ? { result: found } : null,
      },
    });
  });
}

function coreWork(w: TestWork, pdf: string) {
  return {
    id: 28000000 + w.n,
    doi: w.ids.doi,
    title: `Work ${w.n}`,
    authors: [{ name: "Lovelace, Ada" }],
    dataProviders: [
      { id: 92, name: "Simulated Repository", url: "https://api.core.ac.uk/v3/data-providers/92" },
    ],
    documentType: "research",
    downloadUrl: pdf,
    sourceFulltextUrls: [pdf],
    links: [
      { type: "download", url: pdf },
      { type: "display", url: `https://core.ac.uk/works/${28000000 + w.n}` },
    ],
    yearPublished: 2024,
  };
}

function zenodoRecord(w: TestWork, pdf: string) {
  const z = w.zenodo ?? {};
  const id = 7900000 + w.n;
  return {
    id,
    doi: w.ids.doi,
    recid: String(id),
    metadata: {
      title: `Work ${w.n}`,
      doi: w.ids.doi,
      access_right: "open",
      resource_type: z.preprint
        ? { title: "Preprint", type: "publication", subtype: "preprint" }
        : { title: "Journal article", type: "publication", subtype: "article" },
      license: z.license ? { id: z.license } : undefined,
    },
    links: { self: `https://zenodo.org/api/records/${id}`, self_html: `https://zenodo.org/records/${id}` },
    files: [
      { id: `f${w.n}`, key: "paper.pdf", size: 1000, checksum: "md5:0", links: { self: pdf } },
      { id: `d${w.n}`, key: "data.csv", size: 10, checksum: "md5:1", links: { self: `${pdf}.csv` } },
    ],
    status: "published",
  };
}

function figshareArticle(w: TestWork, pdf: string) {
  const id = 5600000 + w.n;
  return {
    id,
    title: `Work ${w.n}`,
    doi: w.ids.doi,
    url: `https://api.figshare.com/v2/articles/${id}`,
    defined_type: 6,
    defined_type_name: "journal contribution",
    url_public_html: `https://figshare.com/articles/journal_contribution/work/${id}`,
    license: w.figshare?.license ? { value: 1, name: w.figshare.license, url: "" } : undefined,
    files: [
      {
        id: id * 10,
        name: "paper.pdf",
        size: 1000,
        is_link_only: false,
        download_url: pdf,
        mimetype: "application/pdf",
      },
    ],
  };
}

function osfPreprint(w: TestWork, pdf: string) {
  const id = `osf${w.n}`;
  return {
    id,
    type: "preprints",
    attributes: { doi: w.ids.doi, title: `Work ${w.n}`, is_published: true, public: true, version: 1 },
    relationships: { primary_file: { data: { id: `file${w.n}`, type: "files" } } },
    embeds: {
      primary_file: {
        data: {
          id: `file${w.n}`,
          type: "files",
          attributes: { name: "preprint.pdf", kind: "file" },
          links: { download: pdf },
        },
      },
    },
    links: {
      self: `https://api.osf.io/v2/preprints/${id}/`,
      html: `https://osf.io/preprints/psyarxiv/${id}/`,
    },
  };
}

function openaireResult(w: TestWork, pdf: string) {
  const instance = {
    accessright: { "@classid": "OPEN", "@classname": "Open Access" },
    hostedby: { "@name": "Simulated Repository" },
    license: w.openaire?.license ? { $: w.openaire.license } : undefined,
    webresource: { url: { $: pdf } },
  };
  return {
    header: { "dri:objIdentifier": { $: `doi_dedup___::${w.n}` } },
    metadata: {
      "oaf:entity": {
        "oaf:result": {
          title: { "@classid": "main title", $: `Work ${w.n}` },
          bestaccessright: { "@classid": "OPEN" },
          pid: { "@classid": "doi", $: w.ids.doi },
          children: { instance },
        },
      },
    },
  };
}
