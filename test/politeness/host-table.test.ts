import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { type ConfigInput, ConfigSchema, defaultConfig } from "../../src/config/schema.ts";
import {
  applyAnnounced,
  createHostTable,
  MAX_ANNOUNCED_INTERVAL_MS,
  parseAnnouncedLimits,
} from "../../src/politeness/host-table.ts";
import { RateError } from "../../src/politeness/rate.ts";

const config = (input: ConfigInput) => v.parse(ConfigSchema, input);
// Rate-limit headers as recorded from the live services (test/fixtures/api/http-headers.json).
const SAMPLES: Record<string, Record<string, string>> = {
  crossref_public_2026: {
    "x-api-pool": "public",
    "x-concurrency-limit": "1",
    "x-rate-limit-interval": "1s",
    "x-rate-limit-limit": "5",
  },
  crossref_polite_2026: {
    "x-api-pool": "polite",
    "x-concurrency-limit": "3",
    "x-rate-limit-interval": "1s",
    "x-rate-limit-limit": "10",
  },
  openalex_singleton_2026: {
    "x-ratelimit-credits-used": "0",
    "x-ratelimit-limit": "2000000",
    "x-ratelimit-remaining": "1999290",
    "x-ratelimit-reset": "39959",
  },
  unpaywall: { "content-type": "application/json", server: "gunicorn/19.9.0" },
};
const sample = (name: string) => SAMPLES[name] ?? {};

describe("host table: defaults and built-ins", () => {
  const table = createHostTable(defaultConfig());

  test("an unknown host gets the role defaults, burst 1 and 4 connections", () => {
    expect(table.policyFor("journal.example")).toEqual({
      host: "journal.example",
      intervalMs: { metadata: 100, landing: 200, artifact: 500 },
      burst: 1,
      maxConcurrent: 4,
      initialBackoffMs: 1000,
      source: "defaults",
    });
  });

  test("arxiv.org and export.arxiv.org: one request every 3 s on one connection, in every role", () => {
    for (const host of ["arxiv.org", "export.arxiv.org"]) {
      const p = table.policyFor(host);
      expect(p.intervalMs).toEqual({ metadata: 3000, landing: 3000, artifact: 3000 });
      expect(p.maxConcurrent).toBe(1);
      expect(p.burst).toBe(1);
    }
  });

  test("arxiv keeps burst 1 even when the global burst is raised", () => {
    const t = createHostTable(config({ politeness: { burst: 5 } }));
    expect(t.policyFor("arxiv.org").burst).toBe(1);
    expect(t.policyFor("journal.example").burst).toBe(5);
  });

  test("NCBI: 3/s, 10/s with an API key", () => {
    for (const host of ["www.ncbi.nlm.nih.gov", "eutils.ncbi.nlm.nih.gov", "pmc.ncbi.nlm.nih.gov"]) {
      expect(table.policyFor(host).intervalMs.metadata).toBeCloseTo(1000 / 3, 9);
    }
    const keyed = createHostTable(defaultConfig(), { ncbiApiKey: "k" });
    expect(keyed.policyFor("eutils.ncbi.nlm.nih.gov").intervalMs.metadata).toBe(100);
  });

  test("Crossref: 5/s and 1 connection without a contact email, 10/s and 3 with one", () => {
    const anon = table.policyFor("api.crossref.org");
    expect([anon.intervalMs.metadata, anon.maxConcurrent]).toEqual([200, 1]);
    const polite = createHostTable(defaultConfig(), { contactEmail: "a@b.org" }).policyFor(
      "api.crossref.org",
    );
    expect([polite.intervalMs.metadata, polite.maxConcurrent]).toEqual([100, 3]);
  });

  test("the other services of docs/resolvers.md", () => {
    expect(table.policyFor("api.unpaywall.org").intervalMs.metadata).toBe(100);
    expect(table.policyFor("api.openalex.org").intervalMs.metadata).toBe(100);
    expect(table.policyFor("api.semanticscholar.org").intervalMs.metadata).toBe(1000);
    expect(table.policyFor("www.ebi.ac.uk").intervalMs.metadata).toBe(100);
    const wayback = table.policyFor("web.archive.org");
    expect(wayback.intervalMs.artifact).toBe(125);
    expect(wayback.initialBackoffMs).toBe(60_000);
    expect(table.policyFor("archive.org").initialBackoffMs).toBe(60_000);
    expect(table.policyFor("doaj.org").source).toBe("defaults");
  });

  test("the repository sources: each its own limit", () => {
    const view = (host: string) => {
      const p = table.policyFor(host);
      return [p.intervalMs.metadata, p.maxConcurrent, p.source];
    };
    expect(view("api.core.ac.uk")).toEqual([1000, 2, "built-in"]);
    expect(view("zenodo.org")).toEqual([1000, 2, "built-in"]);
    expect(view("api.figshare.com")).toEqual([1000, 2, "built-in"]);
    expect(view("api.archives-ouvertes.fr")).toEqual([500, 2, "built-in"]);
    expect(view("api.osf.io")).toEqual([1000, 2, "built-in"]);
    expect(view("api.openaire.eu")).toEqual([60_000, 1, "built-in"]);
    // Zenodo serves its files from the same host: downloads share the pace.
    expect(table.policyFor("zenodo.org").intervalMs.artifact).toBe(1000);
  });

  test("built-ins replace the role defaults, whatever the defaults are", () => {
    const t = createHostTable(config({ politeness: { rates: { metadata: "1/s", artifact: "1 per 10 s" } } }));
    expect(t.policyFor("journal.example").intervalMs).toEqual({
      metadata: 1000,
      landing: 200,
      artifact: 10_000,
    });
    expect(t.policyFor("arxiv.org").intervalMs.artifact).toBe(3000);
  });
});

describe("host table: config overrides", () => {
  test("politeness.hosts.<host>.rate replaces a built-in in every role, roles refine it", () => {
    const t = createHostTable(
      config({
        politeness: { hosts: { "arxiv.org": { rate: "1/10s", roles: { metadata: "1/5s" } } } },
      }),
    );
    const p = t.policyFor("arxiv.org");
    expect(p.intervalMs).toEqual({ metadata: 5000, landing: 10_000, artifact: 10_000 });
    expect(p.maxConcurrent).toBe(1); // not overridden: the built-in stands
    expect(p.source).toBe("config");
  });

  test("a role-only entry keeps the other roles' defaults", () => {
    const t = createHostTable(
      config({ politeness: { hosts: { "pub.example": { roles: { artifact: "1/2s" } } } } }),
    );
    expect(t.policyFor("pub.example").intervalMs).toEqual({ metadata: 100, landing: 200, artifact: 2000 });
  });

  test("max_concurrent and burst per host; max_per_host for the rest", () => {
    const t = createHostTable(
      config({
        politeness: {
          max_per_host: 2,
          hosts: {
            "api.crossref.org": { max_concurrent: 2 },
            "big.example": { max_concurrent: 16, burst: 4 },
          },
        },
      }),
      { contactEmail: "a@b.org" },
    );
    expect(t.policyFor("api.crossref.org").maxConcurrent).toBe(2);
    expect(t.policyFor("api.crossref.org").intervalMs.metadata).toBe(100);
    expect(t.policyFor("big.example")).toMatchObject({ maxConcurrent: 16, burst: 4 });
    expect(t.policyFor("small.example").maxConcurrent).toBe(2);
  });

  test("host keys in config are matched case-insensitively, ports included", () => {
    const t = createHostTable(config({ politeness: { hosts: { "Pub.Example:8443": { rate: "1/s" } } } }));
    expect(t.policyFor("pub.example:8443").intervalMs.landing).toBe(1000);
    expect(t.policyFor("pub.example").intervalMs.landing).toBe(200);
  });

  test("a rate that allows nothing: the schema refuses it, and a hand-built config still fails with its key path", () => {
    const input = { politeness: { hosts: { "x.example": { rate: "0/s" } } } };
    expect(v.safeParse(ConfigSchema, input).success).toBe(false);
    const handBuilt = config({ politeness: { hosts: { "x.example": { rate: "1/s" } } } });
    (handBuilt.politeness.hosts["x.example"] as { rate: string }).rate = "0/s";
    expect(() => createHostTable(handBuilt)).toThrow(RateError);
    expect(() => createHostTable(handBuilt)).toThrow('politeness.hosts.x.example.rate: "0/s"');
  });
});

describe("announced limits", () => {
  test("Crossref public pool headers: 5 per 1s, 1 connection", () => {
    expect(parseAnnouncedLimits(sample("crossref_public_2026"))).toEqual({
      intervalMs: 200,
      maxConcurrent: 1,
    });
  });

  test("Crossref polite pool headers, as a Headers object", () => {
    expect(parseAnnouncedLimits(new Headers(sample("crossref_polite_2026")))).toEqual({
      intervalMs: 100,
      maxConcurrent: 3,
    });
  });

  test("OpenAlex's daily credit counter is not mistaken for a rate", () => {
    expect(parseAnnouncedLimits(sample("openalex_singleton_2026"))).toBeUndefined();
    expect(parseAnnouncedLimits(sample("unpaywall"))).toBeUndefined();
  });

  test("garbled values are ignored; huge intervals are capped", () => {
    expect(
      parseAnnouncedLimits({ "x-rate-limit-limit": "0", "x-rate-limit-interval": "1s" }),
    ).toBeUndefined();
    expect(
      parseAnnouncedLimits({ "x-rate-limit-limit": "ten", "x-rate-limit-interval": "1s" }),
    ).toBeUndefined();
    expect(parseAnnouncedLimits({ "x-concurrency-limit": "0" })).toBeUndefined();
    expect(parseAnnouncedLimits({ "x-concurrency-limit": "2.5" })).toBeUndefined();
    expect(
      parseAnnouncedLimits({ "x-rate-limit-limit": "1", "x-rate-limit-interval": "1h" }),
    ).toBeUndefined();
    expect(parseAnnouncedLimits({ "x-rate-limit-limit": "1", "x-rate-limit-interval": "600s" })).toEqual({
      intervalMs: MAX_ANNOUNCED_INTERVAL_MS,
    });
    expect(parseAnnouncedLimits({ "X-Rate-Limit-Limit": "50", "X-Rate-Limit-Interval": "1m" })).toEqual({
      intervalMs: 1200,
    });
  });

  test("announcements only ever tighten the configured policy", () => {
    const base = createHostTable(defaultConfig(), { contactEmail: "a@b.org" }).policyFor("api.crossref.org");
    const slower = applyAnnounced(base, { intervalMs: 200, maxConcurrent: 1 });
    expect([slower.intervalMs.metadata, slower.maxConcurrent]).toEqual([200, 1]);
    const faster = applyAnnounced(base, { intervalMs: 20, maxConcurrent: 50 });
    expect([faster.intervalMs.metadata, faster.maxConcurrent]).toEqual([100, 3]);
    expect(applyAnnounced(base, undefined)).toBe(base);
  });
});
