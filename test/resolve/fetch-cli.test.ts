// `docstokg fetch` and `docstokg resolve` as users run them: the built binary, a config file that
// points every resolver at the simulated APIs, and the 60-work catalogue. The binary must obtain
// exactly the works that have a reachable copy, by the resolver the truth names, and give the
// expected reason for every other work.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FetchOutcome, Listing } from "../../src/cli/fetch-format.ts";
import { isTransient } from "../../src/core/reasons.ts";
import { startApis } from "../support/apis.ts";
import { emptyDir, runBinary } from "../support/binary.ts";
import { buildCatalogue, type Loc, workArgument } from "../support/catalogue.ts";
import { startWeb } from "../support/web.ts";

const works = buildCatalogue(2);
const web = await startWeb();
const sim = await startApis(web, works);
const dir = emptyDir("docstokg-fetch-");
const configFile = join(dir, "docstokg.json");
writeFileSync(
  configFile,
  JSON.stringify(
    { ...sim.configInput(), state_dir: join(dir, "state"), out_dir: join(dir, "library") },
    null,
    2,
  ),
);
afterAll(async () => {
  await web.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };

describe("docstokg fetch over the catalogue", () => {
  test(`${works.length} works: every reachable copy obtained, every other work with its expected reason`, async () => {
    expect(works.length).toBeGreaterThanOrEqual(50);
    const args = works.map((w) => workArgument(w, sim.url));
    const r = await runBinary(["fetch", "--config", configFile, "--json", ...args], { cwd: dir, env });
    const lines = r.stdout.trim().split("\n").filter(Boolean);
    expect(lines.length).toBe(works.length);
    const outcomes = lines.map((l) => JSON.parse(l) as FetchOutcome);
    const mismatches: string[] = [];
    works.forEach((w, i) => {
      const o = outcomes[i] as FetchOutcome;
      const e = w.expect;
      const got = o.ok ? `obtained via ${o.resolver}` : `${o.reason}${o.transient ? " (transient)" : ""}`;
      const want = e.obtained
        ? `obtained via ${e.resolver}`
        : "transient" in e
          ? "a transient failure"
          : e.reason;
      const fine = e.obtained
        ? o.ok && o.resolver === e.resolver
        : "transient" in e
          ? !o.ok && o.transient === true && isTransient(o.reason)
          : !o.ok && o.reason === e.reason;
      if (!fine) mismatches.push(`work ${w.n} (${w.scenario}): want ${want}, got ${got} ${o.message ?? ""}`);
      if (o.ok) {
        // The friendly path exists and is a PDF.
        expect(o.path && existsSync(o.path)).toBe(true);
        expect(
          readFileSync(o.path as string)
            .subarray(0, 5)
            .toString(),
        ).toBe("%PDF-");
      }
    });
    expect(mismatches).toEqual([]);
    expect(r.code).toBe(1); // some works have no copy
    const obtained = works.filter((w) => w.expect.obtained).length;
    expect(r.stderr).toContain(`${works.length - obtained} of ${works.length} work(s) not obtained`);
  }, 120_000);

  test("exit 0 when every work was obtained; one line per work with its path", async () => {
    const w = works.find((x) => x.scenario === "unpaywall_pdf");
    const d = works.find((x) => x.scenario === "direct_pdf");
    if (!w || !d) throw new Error("catalogue lacks a scenario");
    const r = await runBinary(
      ["fetch", "--config", configFile, w.ids.doi as string, workArgument(d, sim.url)],
      {
        cwd: dir,
        env,
      },
    );
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    const [reason, url, path, digest, bytes, work, via] = (lines[0] as string).split("\t");
    // "duplicate_content" when the catalogue run above already stored the same bytes.
    expect(["ok", "duplicate_content"]).toContain(reason as string);
    expect([url, work, via]).toEqual([
      sim.url(w.unpaywall?.pdf as Loc),
      `work=${w.ids.doi}`,
      "via=unpaywall/tier2",
    ]);
    expect(path).toStartWith(join(dir, "library", "pdf"));
    expect(digest).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(bytes).toMatch(/^bytes=\d+$/);
  }, 60_000);

  test("a malformed identifier is a usage error naming it (exit 2), nothing fetched", async () => {
    const r = await runBinary(["fetch", "--config", configFile, "10.5555/sim.1", "12345"], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"12345"');
    expect(r.stdout).toBe("");
  }, 60_000);
});

describe("docstokg resolve", () => {
  test("lists candidates by tier and resolver without downloading anything", async () => {
    const w = works.find((x) => x.scenario === "europepmc_pmcid_feeds_direct");
    if (!w) throw new Error("catalogue lacks a scenario");
    const before = Object.values(sim.sites).reduce((n, h) => n + h.requests.length, 0);
    const r = await runBinary(["resolve", "--config", configFile, "--json", w.ids.doi as string], {
      cwd: dir,
      env,
    });
    expect(r.code).toBe(0);
    const listing = JSON.parse(r.stdout) as Listing;
    expect(listing.derived.pmcid).toBe(`PMC${700000 + w.n}`);
    const tier2 = listing.tiers.find((t) => t.tier === 2);
    const direct = tier2?.resolvers.find((x) => x.name === "direct");
    expect(direct?.candidates.map((c) => c.url)).toEqual([
      sim.sites.epmcweb.url(`/articles/PMC${700000 + w.n}?pdf=render`),
      sim.sites.pmcweb.url(`/articles/PMC${700000 + w.n}/pdf/`),
    ]);
    expect(tier2?.resolvers.find((x) => x.name === "unpaywall")?.state).toBe("settled");
    const doiTier = listing.tiers.find((t) => t.resolvers.some((x) => x.name === "doi"));
    expect(doiTier?.resolvers.find((x) => x.name === "doi")?.candidates[0]?.kind).toBe("landing");
    // No site (publisher, repository, PMC) was contacted: no downloads, no landing pages.
    expect(Object.values(sim.sites).reduce((n, h) => n + h.requests.length, 0)).toBe(before);
  }, 60_000);

  test("--scrape fetches landing pages and lists the PDF links on them", async () => {
    const w = works.find((x) => x.scenario === "doi_landing_citation_meta");
    if (!w) throw new Error("catalogue lacks a scenario");
    const r = await runBinary(["resolve", "--config", configFile, "--scrape", w.ids.doi as string], {
      cwd: dir,
      env,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`pdf     ${sim.url({ host: "pub", path: `/w${w.n}/meta.pdf` })}`);
    expect(r.stdout).toContain("found_by=citation_pdf_url");
  }, 60_000);
});

describe("docstokg fetch when the services falter", () => {
  const few = buildCatalogue(1);

  async function runFetch(
    patch: (s: Awaited<ReturnType<typeof startApis>>) => void,
    configPatch: Record<string, unknown> = {},
  ) {
    const w = await startWeb();
    const s = await startApis(w, few);
    const d = emptyDir("docstokg-faults-");
    try {
      const input = s.configInput();
      const cfg = {
        ...input,
        ...configPatch,
        network: { ...input.network, metadata_retries: 3 },
        state_dir: join(d, "state"),
        out_dir: join(d, "library"),
      };
      writeFileSync(join(d, "docstokg.json"), JSON.stringify(cfg));
      patch(s);
      const args = few.map((x) => workArgument(x, s.url));
      const r = await runBinary(["fetch", "--config", join(d, "docstokg.json"), "--json", ...args], {
        cwd: d,
        env: { ...env, HOME: d },
      });
      return r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as FetchOutcome);
    } finally {
      await w.stop();
      rmSync(d, { recursive: true, force: true });
    }
  }

  test("every metadata API failing its first requests with 503: retried, the same truth", async () => {
    const outcomes = await runFetch((s) => {
      for (const name of [
        "unpaywall",
        "crossref",
        "europepmc",
        "pmc",
        "semantic_scholar",
        "doaj",
        "openalex",
        "wayback",
      ] as const)
        s.services[name].fault("*", {
          kind: "status",
          status: 503,
          times: 3,
          headers: { "retry-after": "1" },
        });
    });
    const wrong = few.flatMap((w, i) => {
      const o = outcomes[i] as FetchOutcome;
      const e = w.expect;
      const fine = e.obtained
        ? o.ok && o.resolver === e.resolver
        : "transient" in e
          ? !o.ok && o.transient
          : !o.ok && o.reason === e.reason;
      return fine ? [] : [`${w.n} ${w.scenario}: ${JSON.stringify(o)}`];
    });
    expect(wrong).toEqual([]);
  }, 60_000);

  test("doi.org down: works that depend on it fail transiently (retried later), never permanently", async () => {
    const outcomes = await runFetch((s) => {
      s.services.doi.fault("*", { kind: "status", status: 503 });
    });
    for (const scenario of [
      "doi_landing_citation_meta",
      "doi_landing_base_href",
      "doi_landing_anchor_text",
      "closed",
    ]) {
      const i = few.findIndex((w) => w.scenario === scenario);
      const o = outcomes[i] as FetchOutcome;
      expect([scenario, o.ok, o.transient]).toEqual([scenario, false, true]);
    }
    // Works found before the DOI tier are unaffected.
    const i = few.findIndex((w) => w.scenario === "crossref_pdf");
    expect(outcomes[i]?.ok).toBe(true);
  }, 60_000);
});
