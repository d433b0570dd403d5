// The provenance vocabulary: each source's own words mapped to the manifest's short names.
import { describe, expect, test } from "bun:test";
import {
  normalizeLicense,
  normalizeOaStatus,
  normalizeVersion,
  outcomeDetailProvenance,
} from "../../src/resolve/provenance.ts";

describe("licences", () => {
  test.each([
    ["cc-by", { license: "cc-by" }],
    ["CC BY 4.0", { license: "cc-by" }],
    ["CCBYNCND", { license: "cc-by-nc-nd" }],
    ["cc-by-4.0", { license: "cc-by" }],
    ["cc0", { license: "cc0" }],
    ["public-domain", { license: "public-domain" }],
    ["publisher-specific-oa", { license: "publisher-specific-oa" }],
    ["Publisher-Specific, Author Manuscript", { license: "publisher-specific, author manuscript" }],
  ])("%p", (said, want) => {
    expect(normalizeLicense(said)).toEqual(want);
  });
  test.each([
    ["https://creativecommons.org/licenses/by/4.0/", "cc-by"],
    ["http://creativecommons.org/licenses/by-nc-sa/3.0/igo/", "cc-by-nc-sa"],
    ["https://creativecommons.org/publicdomain/zero/1.0/", "cc0"],
    ["https://creativecommons.org/publicdomain/mark/1.0/", "public-domain"],
  ])("URL %p → %p, the URL kept", (url, name) => {
    expect(normalizeLicense(url)).toEqual({ license: name, license_url: url });
  });
  test("an unrecognized licence URL keeps only the URL; nothing for non-strings and blanks", () => {
    expect(normalizeLicense("https://www.elsevier.com/tdm/userlicense/1.0/")).toEqual({
      license_url: "https://www.elsevier.com/tdm/userlicense/1.0/",
    });
    expect(normalizeLicense(null)).toEqual({});
    expect(normalizeLicense("  ")).toEqual({});
  });
});

describe("versions and OA status", () => {
  test("Unpaywall, OpenAlex and Crossref spellings", () => {
    expect(
      ["publishedVersion", "vor", "acceptedVersion", "am", "submittedVersion", "preprint", "tdm"].map(
        normalizeVersion,
      ),
    ).toEqual(["published", "published", "accepted", "accepted", "submitted", "submitted", undefined]);
  });
  test("OA colours in any case; closed is not a status", () => {
    expect(["GREEN", "gold", "Hybrid", "bronze", "diamond", "closed", 3].map(normalizeOaStatus)).toEqual([
      "green",
      "gold",
      "hybrid",
      "bronze",
      "diamond",
      undefined,
      undefined,
    ]);
  });
  test("an outcome's columns from a candidate's provenance: null where nobody said", () => {
    const said = { version: "acceptedVersion", host_type: "repository", source: "a repository" };
    expect(outcomeDetailProvenance(said)).toEqual({
      license: null,
      licenseUrl: null,
      version: "accepted",
      hostType: "repository",
      oaStatus: null,
    });
  });
});
