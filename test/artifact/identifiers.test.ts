import { describe, expect, test } from "bun:test";
import {
  normalizeArxiv,
  normalizeDoi,
  normalizeOpenalex,
  normalizePmcid,
  normalizePmid,
} from "../../src/artifact/identifiers.ts";
import { canonicalInputUrl, canonicalInputUrlSlow } from "../../src/artifact/url.ts";

describe("normalizeDoi", () => {
  test.each([
    ["10.1038/nature12373", "10.1038/nature12373"],
    ["10.1038/NATURE12373", "10.1038/nature12373"],
    ["  10.1038/nature12373  ", "10.1038/nature12373"],
    ["doi:10.1038/nature12373", "10.1038/nature12373"],
    ["DOI: 10.1038/nature12373", "10.1038/nature12373"],
    ["https://doi.org/10.1186/1744-8603-1-8", "10.1186/1744-8603-1-8"],
    ["http://dx.doi.org/10.1016/S0048-9697(99)00312-5", "10.1016/s0048-9697(99)00312-5"],
    ["HTTPS://DOI.ORG/10.1000/ABC", "10.1000/abc"],
    ["https://doi.org/10.1000%2Fxyz", "10.1000/xyz"],
    ["10.48550/arXiv.1706.03762", "10.48550/arxiv.1706.03762"],
  ])("%p → %p", (raw, want) => {
    expect(normalizeDoi(raw)).toBe(want);
  });
  test.each([
    "",
    "10.1038",
    "10.1038/",
    "11.1038/x",
    "10.abc/x",
    "doi:",
    "nature12373",
    "10.1/a b",
    "https://example.org/10.1/x",
  ])("rejects %p", (raw) => {
    expect(normalizeDoi(raw)).toBeNull();
  });
});

describe("normalizePmcid / normalizePmid", () => {
  test.each([
    ["PMC3531190", "PMC3531190"],
    ["pmc3531190", "PMC3531190"],
    ["pmcid:PMC3531190", "PMC3531190"],
    ["3531190", "PMC3531190"],
    ["https://www.ncbi.nlm.nih.gov/pmc/articles/1156926", "PMC1156926"],
    ["https://pmc.ncbi.nlm.nih.gov/articles/PMC1156926/", "PMC1156926"],
  ])("pmcid %p → %p", (raw, want) => {
    expect(normalizePmcid(raw)).toBe(want);
  });
  test("pmcid from a number, and nonsense rejected", () => {
    expect(normalizePmcid(42)).toBe("PMC42");
    expect(normalizePmcid("PMCPMC1")).toBeNull();
    expect(normalizePmcid("PMC")).toBeNull();
    expect(normalizePmcid("PMC0")).toBeNull();
    expect(normalizePmcid(-3)).toBeNull();
  });
  test.each([
    ["15953397", "15953397"],
    ["pmid:15953397", "15953397"],
    ["PMID: 15953397", "15953397"],
    ["https://pubmed.ncbi.nlm.nih.gov/15953397", "15953397"],
  ])("pmid %p → %p", (raw, want) => {
    expect(normalizePmid(raw)).toBe(want);
  });
  test("pmid rejects non-digits", () => {
    expect(normalizePmid("12a")).toBeNull();
    expect(normalizePmid("0")).toBeNull();
    expect(normalizePmid(1.5)).toBeNull();
    expect(normalizePmid(7)).toBe("7");
  });
});

describe("normalizeArxiv", () => {
  test.each([
    ["arXiv:2101.00001", "2101.00001"],
    ["arxiv:1706.03762v7", "1706.03762v7"],
    ["1304.1068", "1304.1068"],
    ["hep-th/9901001", "hep-th/9901001"],
    ["math.gt/0309136", "math.GT/0309136"],
    ["https://arxiv.org/abs/1706.03762", "1706.03762"],
    ["https://arxiv.org/pdf/1706.03762v2.pdf", "1706.03762v2"],
    ["https://arxiv.org/abs/hep-th/9901001", "hep-th/9901001"],
  ])("%p → %p", (raw, want) => {
    expect(normalizeArxiv(raw)).toBe(want);
  });
  test.each(["2101.001", "21010.00001", "hep-th/990100", "arxiv:", "10.1/x"])("rejects %p", (raw) => {
    expect(normalizeArxiv(raw)).toBeNull();
  });
});

test("normalizeOpenalex", () => {
  expect(normalizeOpenalex("https://openalex.org/W2144516619")).toBe("W2144516619");
  expect(normalizeOpenalex("openalex:w12")).toBe("W12");
  expect(normalizeOpenalex("A123")).toBeNull();
});

describe("canonicalInputUrl", () => {
  test.each([
    ["HTTP://Example.ORG/a/./b/../c?Q=1#frag", "http://example.org/a/c?Q=1"],
    ["https://bücher.example/x", "https://xn--bcher-kva.example/x"],
    ["https://example.org:443/x", "https://example.org/x"],
    ["http://example.org:80/x", "http://example.org/x"],
    ["https://example.org:8443/x", "https://example.org:8443/x"],
    ["https://example.org", "https://example.org/"],
    ["https://example.org/p?b=2&a=1", "https://example.org/p?b=2&a=1"],
  ])("%p → %p", (raw, want) => {
    expect(canonicalInputUrl(raw)).toBe(want);
  });
  test.each(["ftp://example.org/x", "example.org/x", "mailto:a@b.c", "https://", "javascript:alert(1)", ""])(
    "rejects %p",
    (raw) => {
      expect(canonicalInputUrl(raw)).toBeNull();
    },
  );
});

describe("canonicalInputUrl fast path", () => {
  test("agrees with the URL parser on tricky and random inputs", () => {
    const tricky = [
      "https://example.org/a/./b",
      "https://example.org/a/../b",
      "https://example.org/a/.",
      "https://example.org/a/..?x",
      "https://example.org/%2e%2E/x",
      "https://example.org/a?x=/../y",
      "http://0x7f.1/",
      "http://127.0.0.1/x",
      "http://2130706433/",
      "https://a.b.123/",
      "https://xn--zz.org/",
      "https://xn--bcher-kva.example/",
      "https://example.org/%7euser/%2f",
      "https://example.org/a%20b?q=%7e",
      "https://example.org./a",
      "https://example.org",
      "https://example.org/it's",
      "https://example.org/a b",
      "https://example.org/~user/(x)*+,;=:@!$&",
      "https://example.org/%zz%41",
      "https://example.org./x",
      "https://-a.org/x",
      "https://a-.org/x",
      "https://example.org/x#f",
      "https://example.org/x?#",
      "https://user@example.org/x",
      "https://example.org:443/x",
      "https://EXAMPLE.org/x",
      "https://example.org/x\\y",
      "https://example.org/x{y}",
      "https://example.org/x?q=a'b",
    ];
    for (const u of tricky) expect([u, canonicalInputUrl(u)]).toEqual([u, canonicalInputUrlSlow(u)]);
    const alphabet = [
      "a",
      "Z",
      "0",
      "9",
      "-",
      ".",
      "/",
      "%",
      "2",
      "e",
      "?",
      "#",
      "'",
      ":",
      "@",
      "x",
      "n",
      "~",
      "&",
      "=",
    ];
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 20_000; i++) {
      let host = "";
      let path = "";
      for (let k = rnd(12); k >= 0; k--) host += alphabet[rnd(alphabet.length)];
      for (let k = rnd(16); k >= 0; k--) path += alphabet[rnd(alphabet.length)];
      const u = `https://${host}/${path}`;
      expect([u, canonicalInputUrl(u)]).toEqual([u, canonicalInputUrlSlow(u)]);
    }
  });
});
