import { describe, expect, test } from "bun:test";
import {
  idsFromPmhId,
  normalizeArxiv,
  normalizePmcid,
  normalizePmid,
  pmcidFromUrl,
} from "../../src/resolve/ids.ts";
import { scrapeLandingPage } from "../../src/resolve/landing.ts";
import { fixtureText } from "../support/fixtures.ts";

describe("scrapeLandingPage", () => {
  test("real page: citation_pdf_url first; the identical link rel=alternate is not repeated", async () => {
    const links = await scrapeLandingPage(
      fixtureText("landing-page-citation-pdf-url.html"),
      "https://greenelab.github.io/connectivity-search-manuscript/",
    );
    expect(links).toEqual([
      {
        url: "https://greenelab.github.io/connectivity-search-manuscript/manuscript.pdf",
        found_by: "citation_pdf_url",
      },
    ]);
  });
  test("priority is meta, then link alternate, then anchors, whatever the document order", async () => {
    const html = `<html><body><a href="/files/a.pdf">x</a>
      <link rel="alternate" type="application/pdf" href="/alt.pdf">
      <meta name="citation_pdf_url" content="https://cdn.example/meta.pdf"></body></html>`;
    const links = await scrapeLandingPage(html, "https://pub.example/article/1");
    expect(links.map((l) => `${l.found_by} ${l.url}`)).toEqual([
      "citation_pdf_url https://cdn.example/meta.pdf",
      "link_alternate https://pub.example/alt.pdf",
      "anchor https://pub.example/files/a.pdf",
    ]);
  });
  test("relative links resolve against <base href>, itself relative to the page URL", async () => {
    const html = `<head><base href="/content/v2/"></head><body>
      <a href="paper.pdf">Full text</a><a href="../other.html">Download PDF</a><a href="fig.png">Figure</a></body>`;
    const links = await scrapeLandingPage(html, "https://pub.example/articles/42?x=1");
    expect(links.map((l) => l.url)).toEqual([
      "https://pub.example/content/v2/paper.pdf",
      "https://pub.example/content/other.html",
    ]);
  });
  test("without <base>, links resolve against the page URL; fragments dropped; unsafe schemes ignored", async () => {
    const html = `<a href="download.pdf#page=2">get it</a><a href="javascript:alert(1)">PDF</a>
      <a href="mailto:x@y.org">PDF</a><a href="/view?id=1"><span>View</span> <b>PDF</b></a>`;
    const links = await scrapeLandingPage(html, "https://pub.example/a/b/");
    expect(links.map((l) => l.url)).toEqual([
      "https://pub.example/a/b/download.pdf",
      "https://pub.example/view?id=1",
    ]);
  });
  test("text mentioning PDF-like words does not count; the link count is bounded", async () => {
    const many = Array.from({ length: 10 }, (_, i) => `<a href="/f${i}.pdf">f</a>`).join("");
    expect(
      await scrapeLandingPage(`<a href="/x">PDFs of everything</a>${many}`, "https://h/", 3),
    ).toHaveLength(3);
    expect(await scrapeLandingPage(`<a href="/x">Pdfium</a>`, "https://h/")).toEqual([]);
  });
});

describe("identifier shapes", () => {
  test("PMCIDs never get a doubled prefix", () => {
    expect(["PMC123", "pmc123", "123", "PMC123.2", 123, "pmcid:PMC123"].map(normalizePmcid)).toEqual(
      Array(6).fill("PMC123"),
    );
    expect(normalizePmcid("PMCPMC1")).toBeUndefined();
  });
  test("PMIDs from integers and PubMed URLs; arXiv ids from prefixes and URLs", () => {
    expect([33163378, "https://pubmed.ncbi.nlm.nih.gov/33163378", "33163378"].map(normalizePmid)).toEqual(
      Array(3).fill("33163378"),
    );
    expect(normalizeArxiv("https://arxiv.org/abs/1706.03762v7")).toBe("1706.03762v7");
    expect(normalizeArxiv("http://export.arxiv.org/pdf/hep-th/9901001.pdf")).toBe("hep-th/9901001");
    expect(normalizeArxiv("10.1000/xyz")).toBeUndefined();
  });
  test("OAI-PMH ids and PMC article URLs", () => {
    expect(idsFromPmhId("pmh:oai:pubmedcentral.nih.gov:1156926")).toEqual({ pmcid: "PMC1156926" });
    expect(idsFromPmhId("oai:arXiv.org:1304.1068")).toEqual({ arxiv: "1304.1068" });
    expect(pmcidFromUrl("https://www.ncbi.nlm.nih.gov/pmc/articles/1156926")).toBe("PMC1156926");
    expect(pmcidFromUrl("http://europepmc.org/articles/pmc4221854?pdf=render")).toBe("PMC4221854");
    expect(pmcidFromUrl("https://example.org/articles/PMC1")).toBeUndefined();
  });
});
