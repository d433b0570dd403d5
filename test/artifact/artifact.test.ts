import { describe, expect, test } from "bun:test";
import { deriveArtifactId, normalizeArtifact } from "../../src/artifact/artifact.ts";
import { artifactFromIdentifier, parseInputLine } from "../../src/artifact/input.ts";
import { artifactFromOpenAlex } from "../../src/artifact/openalex.ts";
import { FIXTURE_DIR } from "../support/fixtures.ts";

const fixtures = FIXTURE_DIR;
const load = async (name: string) =>
  (await Bun.file(`${fixtures}/${name}`).json()) as Record<string, unknown>;

describe("id derivation", () => {
  test("preference order doi > pmcid > pmid > arxiv > openalex > url", () => {
    const all = {
      doi: "10.1/a",
      pmcid: "PMC1",
      pmid: "2",
      arxiv: "2101.00001",
      openalex: "W3",
      pdf_urls: ["https://x.org/a"],
    };
    expect(deriveArtifactId(all)).toBe("doi:10.1/a");
    expect(deriveArtifactId({ ...all, doi: undefined })).toBe("pmcid:PMC1");
    expect(deriveArtifactId({ ...all, doi: undefined, pmcid: undefined })).toBe("pmid:2");
    expect(deriveArtifactId({ arxiv: "2101.00001", openalex: "W3" })).toBe("arxiv:2101.00001");
    expect(deriveArtifactId({ openalex: "W3", pdf_urls: ["https://x.org/a"] })).toBe("openalex:W3");
    expect(deriveArtifactId({ landing_urls: ["https://x.org/l"] })).toBe("url:https://x.org/l");
    expect(deriveArtifactId({ pdf_urls: ["https://x.org/p"], landing_urls: ["https://x.org/l"] })).toBe(
      "url:https://x.org/p",
    );
    expect(deriveArtifactId({ title: "only a title" })).toBeNull();
  });
});

describe("normalizeArtifact", () => {
  test("normalizes identifiers and URLs, derives the id, keeps unknown keys in meta", () => {
    const r = normalizeArtifact({
      doi: "https://doi.org/10.1038/NATURE12373",
      pmid: 23903748,
      pmcid: "pmc3531190",
      title: "T",
      year: 2013,
      pdf_urls: [
        "HTTPS://Example.org/a.pdf#page=2",
        "https://example.org/a.pdf",
        "https://example.org/b.pdf",
      ],
      priority: 4,
      source: "crawl-7",
      meta: { batch: 1, source: "explicit wins" },
    });
    expect(r).toEqual({
      ok: true,
      value: {
        id: "doi:10.1038/nature12373",
        doi: "10.1038/nature12373",
        pmcid: "PMC3531190",
        pmid: "23903748",
        title: "T",
        year: 2013,
        pdf_urls: ["https://example.org/a.pdf", "https://example.org/b.pdf"],
        priority: 4,
        meta: { batch: 1, source: "explicit wins" },
      },
    });
  });
  test("an explicit id is kept", () => {
    const r = normalizeArtifact({ id: " my-1 ", doi: "10.1/x" });
    expect(r.ok && r.value.id).toBe("my-1");
  });
  test("unknown keys become meta when there is none", () => {
    const r = normalizeArtifact({ doi: "10.1/x", shelf: [1, 2] });
    expect(r.ok && r.value.meta).toEqual({ shelf: [1, 2] });
  });
  test.each([
    [{ doi: "nonsense" }, "doi: expected a DOI"],
    [{ doi: 5 }, "doi: expected a DOI string"],
    [{ pdf_urls: ["ftp://x/y"] }, "pdf_urls[0]: expected an absolute http(s) URL"],
    [{ pdf_urls: "https://x.org/a" }, "pdf_urls: expected an array"],
    [{ doi: "10.1/x", year: "2020" }, "year: expected a year"],
    [{ doi: "10.1/x", priority: "high" }, "priority: expected a number"],
    [{ title: "no ids" }, "no identifier"],
    [{ id: "", doi: "10.1/x" }, "id: expected a non-empty id"],
    [{ arxiv: "1234" }, "arxiv: expected an arXiv id"],
  ])("%j is rejected naming the field", (input, reason) => {
    const r = normalizeArtifact(input);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.reason).toContain(reason);
  });
});

describe("OpenAlex works", () => {
  test("an OA work: ids, title, year, locations in order, oa_url, PMCID from the PMC location", async () => {
    const r = artifactFromOpenAlex(await load("openalex-work-oa.json"));
    expect(r).toEqual({
      ok: true,
      value: {
        id: "doi:10.1186/1744-8603-1-8",
        doi: "10.1186/1744-8603-1-8",
        pmcid: "PMC1156926",
        pmid: "15953397",
        openalex: "W2144516619",
        title: "The World Summit on Sustainable Development: reaffirming the centrality of health",
        year: 2005,
        pdf_urls: ["https://globalizationandhealth.biomedcentral.com/counter/pdf/10.1186/1744-8603-1-8"],
        landing_urls: [
          "https://doi.org/10.1186/1744-8603-1-8",
          "https://pubmed.ncbi.nlm.nih.gov/15953397",
          "https://doaj.org/article/b2d59eb735714179ab8b7c81def7e1d2",
          "http://europepmc.org/articles/PMC1156926",
          "https://www.ncbi.nlm.nih.gov/pmc/articles/1156926",
        ],
      },
    });
  });
  test("a closed work keeps its landing pages and has no PDF", async () => {
    const r = artifactFromOpenAlex(await load("openalex-work-closed.json"));
    expect(r.ok && r.value.pdf_urls).toBeUndefined();
    expect(r.ok && r.value.landing_urls).toEqual([
      "https://doi.org/10.1038/35002501",
      "https://pubmed.ncbi.nlm.nih.gov/10706275",
    ]);
    expect(r.ok && r.value.id).toBe("doi:10.1038/35002501");
  });
  test("a works page: PMCID from a pubmedcentral OAI location id; oa_url appended to pdf_urls", async () => {
    const page = await load("openalex-works-page.json");
    const [bronze, green] = (page.results as Record<string, unknown>[]).map(artifactFromOpenAlex);
    expect(bronze?.ok && bronze.value.pmcid).toBe("PMC2453743");
    expect(bronze?.ok && bronze.value.pdf_urls).toEqual([
      "https://www.pnas.org/content/pnas/105/27/9445.full.pdf",
    ]);
    expect(green?.ok && green.value.pdf_urls).toEqual([
      "http://repository.graduateinstitute.ch/record/13017",
    ]);
  });
  test("the same work as an OpenAlex record and as a bare DOI has one id", async () => {
    const line = JSON.stringify(await load("openalex-work-oa.json"));
    const a = parseInputLine(line, "auto");
    const b = parseInputLine("https://doi.org/10.1186/1744-8603-1-8", "auto");
    const c = parseInputLine('{"doi":"10.1186/1744-8603-1-8"}', "auto");
    expect(a.ok && b.ok && c.ok).toBe(true);
    expect(a.ok && a.value.id).toBe(b.ok ? b.value.id : "");
    expect(c.ok && c.value.id).toBe(b.ok ? b.value.id : "");
  });
  test("a work without a DOI falls back to pmid, then openalex", () => {
    const r = artifactFromOpenAlex({
      id: "https://openalex.org/W9",
      ids: { openalex: "https://openalex.org/W9" },
    });
    expect(r.ok && r.value.id).toBe("openalex:W9");
  });
});

describe("input lines", () => {
  test.each([
    ["10.1038/nature12373", "doi:10.1038/nature12373"],
    ["doi:10.1038/Nature12373", "doi:10.1038/nature12373"],
    ["http://dx.doi.org/10.1038/nature12373", "doi:10.1038/nature12373"],
    ["PMC123", "pmcid:PMC123"],
    ["pmcid:PMC123", "pmcid:PMC123"],
    ["pmid:123", "pmid:123"],
    ["arXiv:2101.00001", "arxiv:2101.00001"],
    ["openalex:W5", "openalex:W5"],
    ["https://example.org/x.pdf", "url:https://example.org/x.pdf"],
  ])("identifier %p → %p", (line, id) => {
    const r = artifactFromIdentifier(line);
    expect(r.ok && r.value.id).toBe(id);
  });
  test("a URL line is a direct candidate", () => {
    const r = artifactFromIdentifier("https://Example.org/x.pdf");
    expect(r.ok && r.value.pdf_urls).toEqual(["https://example.org/x.pdf"]);
  });
  test.each([
    ["123", "bare number is ambiguous"],
    ["hello", "expected a DOI, PMCID"],
    ["10.x/abc", "expected a DOI"],
    ["pmid:abc", "expected a PMID"],
  ])("identifier %p is invalid (%p)", (line, reason) => {
    const r = artifactFromIdentifier(line);
    expect(r.ok ? "" : r.reason).toContain(reason);
  });
  test("formats: auto, artifact, openalex, ids", () => {
    const oa = '{"id":"https://openalex.org/W1","doi":"https://doi.org/10.1/x"}';
    expect(parseInputLine(oa, "auto")).toMatchObject({
      ok: true,
      value: { id: "doi:10.1/x", openalex: "W1" },
    });
    expect(parseInputLine(oa, "openalex")).toMatchObject({ ok: true, value: { id: "doi:10.1/x" } });
    // As an artifact the OpenAlex URL is the caller's own id.
    expect(parseInputLine(oa, "artifact")).toMatchObject({
      ok: true,
      value: { id: "https://openalex.org/W1" },
    });
    expect(parseInputLine('{"doi":"10.1/x"}', "openalex")).toMatchObject({ ok: false });
    expect(parseInputLine('{"doi":"10.1/x"}', "ids")).toMatchObject({ ok: false });
    expect(parseInputLine("10.1/x", "ids")).toMatchObject({ ok: true });
    expect(parseInputLine("{not json", "auto")).toEqual({ ok: false, reason: "not valid JSON" });
    expect(parseInputLine("[1,2]", "artifact")).toEqual({ ok: false, reason: "expected a JSON object" });
  });
});

describe("the hand-checked fast path", () => {
  test("gives exactly what the schema path gives, on random artifact-like objects", () => {
    const pools: Record<string, unknown[]> = {
      id: [undefined, "x:1", "  padded  ", "", "   ", 5, null],
      doi: [undefined, "10.1/a", "doi:10.2/B", "bad", 7, null, ""],
      pmid: [undefined, "123", 123, 1.5, "pmid:9", null, "x", -1],
      pmcid: [undefined, "PMC1", 2, "pmc3", null, true, 2.5],
      arxiv: [undefined, "2101.00001", "hep-th/9901001", 3, null],
      openalex: [undefined, "W1", "https://openalex.org/W2", {}, null],
      title: [undefined, "T", "", 4, null],
      year: [undefined, 2020, 2020.5, "2020", null, Number.NaN],
      pdf_urls: [
        undefined,
        [],
        ["https://a.org/x"],
        ["https://a.org/x", "HTTPS://A.org/x#f"],
        ["ftp://x"],
        "https://a.org",
        [1],
        null,
      ],
      landing_urls: [undefined, ["https://b.org/l"], [null], null],
      priority: [undefined, 0, 3, -2.5, "1", null, Number.POSITIVE_INFINITY],
      meta: [undefined, {}, { a: 1 }, [], null, "m"],
      extra: [undefined, 1, "e", { nested: true }],
    };
    let seed = 11;
    const pick = <T>(xs: T[]): T => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return xs[seed % xs.length] as T;
    };
    for (let i = 0; i < 5000; i++) {
      const obj: Record<string, unknown> = {};
      for (const [key, pool] of Object.entries(pools)) {
        const value = pick(pool);
        if (value !== undefined) obj[key] = value;
      }
      expect([obj, normalizeArtifact(structuredClone(obj))]).toEqual([
        obj,
        normalizeArtifact(structuredClone(obj), { viaSchema: true }),
      ]);
    }
  });
});

describe("credentials in input URLs", () => {
  test("a URL with user-info is refused with a reason that does not quote the password", () => {
    for (const line of [
      "http://alice:hunter2@files.example/a.pdf",
      '{"pdf_urls":["https://alice:hunter2@files.example/a.pdf"]}',
      '{"doi":"10.1/a","landing_urls":["https://x.example/","https://alice:hunter2@files.example/"]}',
    ]) {
      const r = parseInputLine(line, "auto");
      if (r.ok) throw new Error(`accepted ${line}`);
      expect(r.reason).toContain("expected a URL without user name or password");
      expect(r.reason).not.toContain("hunter2");
      expect(r.reason).not.toContain("alice");
    }
  });

  test("secret query parameters are redacted in the id; the URL is kept as given for fetching", () => {
    const bare = artifactFromIdentifier("https://files.example/a.pdf?api_key=s3cr3t&id=7");
    expect(bare).toEqual({
      ok: true,
      value: {
        id: "url:https://files.example/a.pdf?api_key=REDACTED&id=7",
        pdf_urls: ["https://files.example/a.pdf?api_key=s3cr3t&id=7"],
      },
    });
    const obj = parseInputLine(
      '{"landing_urls":["https://x.example/p?X-Amz-Signature=abc&X-Amz-Credential=def"]}',
      "auto",
    );
    expect(obj.ok && obj.value.id).toBe(
      "url:https://x.example/p?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED",
    );
    expect(obj.ok && obj.value.landing_urls).toEqual([
      "https://x.example/p?X-Amz-Signature=abc&X-Amz-Credential=def",
    ]);
    const named = normalizeArtifact({ id: "mine https://x.example/?token=t0k", doi: "10.1/a" });
    expect(named.ok && named.value.id).toBe("mine https://x.example/?token=REDACTED");
  });
});
