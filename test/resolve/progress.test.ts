import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";
import { defaultConfig } from "../../src/config/schema.ts";
import { resolverWarnings } from "../../src/resolve/plan.ts";
import { candidateKey, type PlanProgress, resumeProgress } from "../../src/resolve/progress.ts";
import { resolverSettings } from "../../src/resolve/resolver.ts";

const rec = (over: Partial<PlanProgress["candidates"][number]>): PlanProgress["candidates"][number] => ({
  url: "https://h/a.pdf",
  kind: "pdf",
  resolver: "unpaywall",
  tier: 1,
  provenance: {},
  key: "https://h/a.pdf",
  state: "pending",
  depth: 0,
  ...over,
});

describe("resumeProgress", () => {
  test("transient failures become pending again; permanent ones and scraped pages stay as they were", () => {
    const saved: PlanProgress = {
      version: 1,
      resolvers: {
        crossref: { state: "unsettled", reason: "http_503", found: 0 },
        unpaywall: { state: "settled", found: 2 },
      },
      candidates: [
        rec({ key: "a", state: "failed", reason: "timeout", transient: true, retryAt: 5 }),
        rec({ key: "b", state: "failed", reason: "not_found" }),
        rec({ key: "c", kind: "landing", state: "scraped" }),
      ],
      derived: { pmcid: "PMC1" },
    };
    const p = resumeProgress(JSON.stringify(saved));
    expect(p.candidates.map((c) => [c.key, c.state, c.reason])).toEqual([
      ["a", "pending", undefined],
      ["b", "failed", "not_found"],
      ["c", "scraped", undefined],
    ]);
    expect(p.resolvers).toEqual(saved.resolvers);
    expect(p.derived).toEqual({ pmcid: "PMC1" });
  });
  test("unreadable or foreign progress starts afresh instead of failing the job", () => {
    for (const junk of ["{not json", null, 42, { version: 2, candidates: [] }, { version: 1 }])
      expect(resumeProgress(junk)).toEqual({ version: 1, resolvers: {}, candidates: [], derived: {} });
  });
});

describe("candidateKey", () => {
  test("canonical URL: case of scheme/host, default port, dot segments and fragment do not matter", () => {
    expect(candidateKey("HTTPS://Example.ORG:443/a/b/../c.pdf#page=2")).toBe("//example.org/a/c.pdf");
    expect(candidateKey("http://example.org/a/c.pdf")).toBe(candidateKey("https://example.org/a/c.pdf"));
    expect(candidateKey("https://example.org/A.pdf")).not.toBe(candidateKey("https://example.org/a.pdf"));
    expect(candidateKey("https://example.org/a?x=1")).not.toBe(candidateKey("https://example.org/a?x=2"));
  });
  test("arXiv's /pdf/<id>.pdf and /pdf/<id>, and Europe PMC's pmc/PMC renders, are one candidate", () => {
    expect(candidateKey("https://arxiv.org/pdf/1304.1068v2")).not.toBe(
      candidateKey("https://arxiv.org/pdf/1304.1068"),
    );
    expect(candidateKey("http://europepmc.org/articles/pmc4221854?pdf=render")).toBe(
      candidateKey("https://europepmc.org/articles/PMC4221854?pdf=render"),
    );
    expect(candidateKey("http://arxiv.org/pdf/1304.1068.pdf")).toBe(
      candidateKey("https://arxiv.org/pdf/1304.1068"),
    );
  });
});

describe("resolverWarnings", () => {
  test("one clear warning each for Unpaywall without a contact email, OpenAlex and CORE without a key", () => {
    const config = defaultConfig();
    const w = resolverWarnings(config, resolverSettings(config));
    expect(w).toHaveLength(3);
    expect(w[0]).toContain("contact_email");
    expect(w[1]).toContain("OPENALEX_API_KEY");
    expect(w[2]).toContain("CORE_API_KEY");
  });
  test("the credential variables reach the resolvers through the configuration alone (config/env.ts)", async () => {
    const env = { UNPAYWALL_EMAIL: "a@b.org", OPENALEX_API_KEY: "k", CORE_API_KEY: "c", S2_API_KEY: "s" };
    const { config } = await loadConfig({ env, cwd: "/nonexistent-docstokg-cwd" });
    const settings = resolverSettings(config);
    expect([settings.email, settings.openalexApiKey, settings.coreApiKey, settings.s2ApiKey]).toEqual([
      "a@b.org",
      "k",
      "c",
      "s",
    ]);
    expect(resolverWarnings(config, settings)).toEqual([]);
    // Handed the environment directly, nothing is read from it any more: one place reads credentials.
    expect(resolverSettings(defaultConfig()).email).toBeUndefined();
  });
  test("a resolver switched off or left out of the tiers warns nothing", () => {
    const config = defaultConfig();
    config.resolvers.unpaywall.enabled = false;
    config.resolvers.tiers = [["direct"], ["crossref"]];
    expect(resolverWarnings(config, resolverSettings(config))).toEqual([]);
  });
});
