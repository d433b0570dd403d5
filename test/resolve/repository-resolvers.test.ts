// The repository sources (CORE, Zenodo, figshare, HAL, OSF, OpenAIRE): the request each builds and
// the mapping of each recorded sample in test/fixtures/api to candidates with provenance.
import { describe, expect, test } from "bun:test";
import { envSettings } from "../../src/config/env.ts";
import { SCHEMA } from "../../src/config/load.ts";
import { defaultConfig } from "../../src/config/schema.ts";
import { core } from "../../src/resolve/core.ts";
import { figshare } from "../../src/resolve/figshare.ts";
import { hal } from "../../src/resolve/hal.ts";
import { openaire } from "../../src/resolve/openaire.ts";
import { osf } from "../../src/resolve/osf.ts";
import { isSkip, resolverSettings } from "../../src/resolve/resolver.ts";
import { MalformedResponse } from "../../src/resolve/shape.ts";
import type { ResolverMapping, ResolverRequest } from "../../src/resolve/types.ts";
import { zenodo } from "../../src/resolve/zenodo.ts";
import { fixtureJson } from "../support/fixtures.ts";

const config = defaultConfig();
const settings = { ...resolverSettings(config), coreApiKey: "core-key" };
const work = (doi = "10.1038/nature12373") => ({ id: `doi:${doi}`, doi });
const urls = (m: ResolverMapping) => m.candidates.map((c) => `${c.kind} ${c.url}`);
const asRequest = (r: ResolverRequest | { skip: string }) => {
  if (isSkip(r)) throw new Error(`skipped: ${r.skip}`);
  return r;
};

describe("defaults", () => {
  test("a tier after the OA aggregators; OSF, OpenAIRE and HAL off", () => {
    expect(config.resolvers.tiers[2]).toEqual(["core", "zenodo", "figshare", "hal", "osf", "openaire"]);
    const r = config.resolvers;
    expect([r.core, r.zenodo, r.figshare, r.hal, r.osf, r.openaire].map((x) => x.enabled)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
  test("CORE_API_KEY reaches the resolver through the configuration", () => {
    const found = envSettings({ CORE_API_KEY: "from-env" }, SCHEMA);
    expect(found.map((s) => [s.path.join("."), s.value])).toEqual([["resolvers.core.api_key", "from-env"]]);
  });
});

describe("core", () => {
  test("search by quoted DOI with the key as a bearer token; skipped without a key", () => {
    expect(asRequest(core.request(work(), settings))).toEqual({
      url: "https://api.core.ac.uk/v3/search/works?q=doi%3A%2210.1038%2Fnature12373%22&limit=3",
      headers: { authorization: "Bearer core-key" },
    });
    const none = core.request(work(), resolverSettings(config));
    expect(isSkip(none) && none.skip).toContain("CORE_API_KEY");
  });
  test("sample: downloadUrl (also its download link), then the repository's full-text PDF", () => {
    const m = core.map(fixtureJson("core-search-works.json"), work());
    expect(urls(m)).toEqual([
      "pdf https://core.ac.uk/download/pdf/28932137.pdf",
      "pdf https://dash.harvard.edu/bitstream/1/12285462/1/Nanometer-Scale%20Thermometry.pdf",
    ]);
    expect(m.candidates[0]?.provenance).toEqual({
      host_type: "repository",
      source: "Harvard University - DASH",
    });
  });
  test("a hit filed under another DOI is not this work; an empty answer says so", () => {
    expect(core.map(fixtureJson("core-search-works.json"), work("10.1/other")).candidates).toEqual([]);
    expect(core.map(fixtureJson("core-search-works-empty.json"), work()).note).toBe("not in CORE");
  });
});

describe("zenodo", () => {
  test("records search by quoted DOI, most recent first", () => {
    expect(asRequest(zenodo.request(work("10.5281/zenodo.7916245"), settings)).url).toBe(
      "https://zenodo.org/api/records/?q=doi%3A%2210.5281%2Fzenodo.7916245%22&size=3&sort=mostrecent",
    );
  });
  test("sample: the PDF file's content link, with licence and preprint version; the CSV is ignored", () => {
    const m = zenodo.map(fixtureJson("zenodo-records-search.json"), work("10.5281/zenodo.7916245"));
    expect(urls(m)).toEqual(["pdf https://zenodo.org/api/records/7916245/files/survey-preprint.pdf/content"]);
    expect(m.candidates[0]?.provenance).toEqual({
      license: "cc-by",
      version: "submitted",
      host_type: "repository",
      source: "Zenodo",
    });
  });
  test("restricted records give nothing; legacy `type: pdf` files count; no hits", () => {
    const record = (access: string) => ({
      hits: {
        total: 1,
        hits: [
          {
            metadata: { access_right: access },
            files: [{ key: "paper", type: "pdf", links: { self: "https://zenodo.org/api/files/b/paper" } }],
          },
        ],
      },
    });
    expect(zenodo.map(record("restricted"), work()).note).toBe("record not open");
    expect(urls(zenodo.map(record("open"), work()))).toEqual(["pdf https://zenodo.org/api/files/b/paper"]);
    expect(zenodo.map(fixtureJson("zenodo-records-empty.json"), work()).note).toBe("not in Zenodo");
    expect(() => zenodo.map({}, work())).toThrow(MalformedResponse);
  });
});

describe("figshare", () => {
  test("a POST with the documented JSON body", () => {
    const r = asRequest(figshare.request(work("10.6084/m9.figshare.5616409.v1"), settings));
    expect(r.url).toBe("https://api.figshare.com/v2/articles/search");
    expect(r.method).toBe("POST");
    expect(r.headers).toEqual({ "content-type": "application/json" });
    expect(JSON.parse(r.body ?? "")).toEqual({
      search_for: ':doi: "10.6084/m9.figshare.5616409.v1"',
      page: 1,
      page_size: 3,
    });
  });
  test("a full article: its PDF file's download_url with the licence; the zip is ignored", () => {
    const m = figshare.map([fixtureJson("figshare-article.json")], work("10.6084/m9.figshare.5616409.v1"));
    expect(urls(m)).toEqual(["pdf https://ndownloader.figshare.com/files/9846175"]);
    expect(m.candidates[0]?.provenance).toEqual({
      license: "cc-by",
      host_type: "repository",
      source: "figshare",
    });
  });
  test("a light search result without files: its public page as a landing candidate", () => {
    const m = figshare.map(
      fixtureJson("figshare-articles-search.json"),
      work("10.6084/m9.figshare.5616409.v1"),
    );
    expect(urls(m)).toEqual([
      "landing https://figshare.com/articles/journal_contribution/Supplementary_analysis/5616409",
    ]);
    expect(figshare.map([], work()).note).toBe("not in figshare");
    expect(() => figshare.map({}, work())).toThrow(MalformedResponse);
  });
});

describe("hal", () => {
  test("Solr query on doiId_s with the fields read", () => {
    expect(asRequest(hal.request(work(), settings)).url).toBe(
      "https://api.archives-ouvertes.fr/search/?q=doiId_s%3A%2210.1038%2Fnature12373%22&fl=fileMain_s,file_s,licence_s,uri_s,docType_s&wt=json",
    );
  });
  test("sample: the main file, then file_s PDFs; the licence URL mapped to its short name", () => {
    const m = hal.map(fixtureJson("hal-search.json"), work());
    expect(urls(m)).toEqual([
      "pdf https://hal.science/hal-01660452/document",
      "pdf https://hal.science/hal-01660452/file/article.pdf",
    ]);
    expect(m.candidates[0]?.provenance).toEqual({
      license: "cc-by",
      license_url: "http://creativecommons.org/licenses/by/",
      host_type: "repository",
      source: "HAL",
    });
    expect(hal.map(fixtureJson("hal-search-metadata-only.json"), work()).note).toBe(
      "metadata only (no file)",
    );
  });
});

describe("osf", () => {
  test("preprints filtered by DOI with the primary file embedded", () => {
    expect(asRequest(osf.request(work("10.1037/xge0000601"), settings)).url).toBe(
      "https://api.osf.io/v2/preprints/?filter%5Bdoi%5D=10.1037%2Fxge0000601&embed=primary_file",
    );
  });
  test("sample: the primary file's download link, the preprint page as landing; a submitted version", () => {
    const m = osf.map(fixtureJson("osf-preprints.json"), work("10.1037/xge0000601"));
    expect(urls(m)).toEqual([
      "pdf https://osf.io/download/5ca3a6a5f2be3c0017a8d4e1/",
      "landing https://osf.io/preprints/psyarxiv/7kdbq_v1/",
    ]);
    expect(m.candidates[0]?.provenance).toEqual({
      version: "submitted",
      host_type: "repository",
      source: "OSF",
    });
    expect(osf.map(fixtureJson("osf-preprints-empty.json"), work()).candidates).toEqual([]);
  });
});

describe("openaire", () => {
  test("publications by DOI as JSON", () => {
    expect(asRequest(openaire.request(work(), settings)).url).toBe(
      "https://api.openaire.eu/search/publications?doi=10.1038%2Fnature12373&format=json",
    );
  });
  test("sample: open instances' PDFs with their licence, any other PDF URL, open landing pages last", () => {
    const m = openaire.map(fixtureJson("openaire-publications.json"), work());
    expect(urls(m)).toEqual([
      "pdf https://europepmc.org/articles/PMC4221854/pdf/nihms-529765.pdf",
      "pdf https://dash.harvard.edu/bitstream/1/12285462/1/Nanometer-Scale%20Thermometry.pdf",
      "landing https://europepmc.org/articles/PMC4221854",
      "landing http://arxiv.org/abs/1304.1068",
    ]);
    expect(m.candidates[0]?.provenance).toEqual({
      license: "cc-by",
      license_url: "https://creativecommons.org/licenses/by/4.0/",
      source: "Europe PubMed Central",
    });
    // The closed publisher instance is not a landing candidate.
    expect(urls(m).some((u) => u.includes("doi.org"))).toBe(false);
    expect(openaire.map(fixtureJson("openaire-publications-empty.json"), work()).note).toBe(
      "not in OpenAIRE",
    );
  });
});
