// The tiered plan end to end at the library level: real client, real download pipeline, the
// simulated APIs and sites. Each scenario of the catalogue must end exactly as its truth says.
import { afterAll, describe, expect, test } from "bun:test";
import type { Config } from "../../src/config/schema.ts";
import { isTransient } from "../../src/core/reasons.ts";
import type { DownloadResult } from "../../src/download/types.ts";
import { Politeness } from "../../src/politeness/politeness.ts";
import { openPolitenessDb } from "../politeness/db.ts";
import { buildCatalogue, type TestWork } from "../support/catalogue.ts";
import { makePdf } from "../support/pdf.ts";
import { startHarness } from "./harness.ts";

const catalogue = buildCatalogue(1);
const byScenario = (name: string) => {
  const w = catalogue.find((x) => x.scenario === name);
  if (!w) throw new Error(`no scenario ${name}`);
  return w;
};

// Works made for single plan behaviours, numbered after the catalogue.
const extra = (n: number, w: Omit<TestWork, "n">): TestWork => ({ n, ...w });
const doi = (n: number) => `10.5555/sim.${n}`;
const ownAndApis = extra(101, {
  scenario: "own pdf and an API copy",
  ids: { doi: doi(101) },
  pdf_urls: [{ host: "pub", path: "/w101/own.pdf" }],
  pages: [
    { at: { host: "pub", path: "/w101/own.pdf" }, page: { kind: "pdf" } },
    { at: { host: "repo", path: "/w101/api.pdf" }, page: { kind: "pdf" } },
  ],
  unpaywall: { pdf: { host: "repo", path: "/w101/api.pdf" } },
  doiTarget: { host: "pub", path: "/w101/article" },
  expect: { obtained: true, resolver: "direct" },
});
const sameUrlEverywhere = extra(102, {
  scenario: "three resolvers, one dead URL",
  ids: { doi: doi(102) },
  pages: [{ at: { host: "pub", path: "/w102/same.pdf" }, page: { kind: "status", status: 404 } }],
  unpaywall: { pdf: { host: "pub", path: "/w102/same.pdf" } },
  crossref: {
    links: [{ at: { host: "pub", path: "/w102/x/../same.pdf" }, type: "application/pdf", version: "vor" }],
  },
  s2: { pdf: { host: "pub", path: "/w102/same.pdf#page=1" } },
  expect: { obtained: false, reason: "not_found" },
});
const deadLinks = extra(103, {
  scenario: "five dead own links",
  ids: {},
  pdf_urls: [1, 2, 3, 4, 5].map((i) => ({ host: "pub" as const, path: `/w103/dead${i}.pdf` })),
  pages: [],
  expect: { obtained: false, reason: "budget_exhausted" },
});
const resumable = extra(104, {
  scenario: "crossref down at first",
  ids: { doi: doi(104) },
  pages: [
    { at: { host: "pub", path: "/w104/gone.pdf" }, page: { kind: "status", status: 404 } },
    { at: { host: "pub", path: "/w104/vor.pdf" }, page: { kind: "pdf" } },
  ],
  unpaywall: { pdf: { host: "pub", path: "/w104/gone.pdf" } },
  crossref: {
    links: [{ at: { host: "pub", path: "/w104/vor.pdf" }, type: "application/pdf", version: "vor" }],
  },
  expect: { obtained: true, resolver: "crossref" },
});
const slowAndFast = extra(105, {
  scenario: "slow and fast copies",
  ids: {},
  pdf_urls: [
    { host: "repo", path: "/w105/slow.pdf" },
    { host: "pub", path: "/w105/fast.pdf" },
  ],
  pages: [{ at: { host: "pub", path: "/w105/fast.pdf" }, page: { kind: "pdf" } }],
  expect: { obtained: true, resolver: "direct" },
});
const parallelApis = [106, 107, 108, 109].map((n) =>
  extra(n, {
    scenario: "crossref copy",
    ids: { doi: doi(n) },
    pages: [{ at: { host: "pub", path: `/w${n}/vor.pdf` }, page: { kind: "pdf" } }],
    unpaywall: {},
    crossref: {
      links: [{ at: { host: "pub", path: `/w${n}/vor.pdf` }, type: "application/pdf", version: "vor" }],
    },
    expect: { obtained: true, resolver: "crossref" },
  }),
);
const bigLanding = extra(111, {
  scenario: "landing page larger than the scrape bound",
  ids: {},
  landing_urls: [{ host: "repo", path: "/w111/huge" }],
  pages: [{ at: { host: "repo", path: "/w111/late.pdf" }, page: { kind: "pdf" } }],
  expect: { obtained: false, reason: "html_only" },
});
const works = [
  ...catalogue,
  bigLanding,
  ownAndApis,
  sameUrlEverywhere,
  deadLinks,
  resumable,
  slowAndFast,
  ...parallelApis,
];

const h = await startHarness(works);
h.sim.sites.repo.route(
  "/w105/slow.pdf",
  () =>
    new Response(makePdf("slow", { minBytes: 60_000 }), {
      headers: {
        "content-type": "application/pdf",
        "content-length": String(makePdf("slow", { minBytes: 60_000 }).length),
      },
    }),
);
h.sim.sites.repo.fault("/w105/slow.pdf", { kind: "drip", chunkBytes: 2000, intervalMs: 100 });
// 3 MB of markup, and the PDF link only at the end: beyond resolvers.landing.max_page_bytes.
h.sim.sites.repo.html(
  "/w111/huge",
  `<html><head><title>t</title></head><body>${"<p>filler</p>".repeat(250_000)}<a href="/w111/late.pdf">PDF</a></body></html>`,
);
afterAll(() => h.stop());

const requestsFor = (needle: string) =>
  h.sim.apiRequests().filter((r) => decodeURIComponent(r.path).includes(needle));

describe("every catalogue scenario ends as its truth says", () => {
  for (const w of catalogue) {
    test(`${w.n} ${w.scenario}`, async () => {
      const r = await h.run(w);
      if (w.expect.obtained) {
        expect(r.ok ? r.candidate.resolver : `failed: ${r.reason} (${r.message})`).toBe(w.expect.resolver);
        if (r.ok) expect(r.outcome.file.kind).toBe("pdf");
      } else if ("transient" in w.expect) {
        expect(r.ok).toBe(false);
        if (!r.ok) expect([r.reason, r.transient, isTransient(r.reason)]).toEqual([r.reason, true, true]);
      } else {
        expect(r.ok ? `obtained via ${r.candidate.resolver}` : r.reason).toBe(w.expect.reason);
        if (!r.ok) expect(r.transient).toBe(false);
      }
    });
  }
});

describe("plan behaviour", () => {
  test("tier order: the work's own PDF wins before any API is asked", async () => {
    const r = await h.run(ownAndApis);
    expect(r.ok && r.candidate.url).toBe(h.sim.url({ host: "pub", path: "/w101/own.pdf" }));
    expect(requestsFor("sim.101")).toEqual([]);
  });

  test("a copy found in the API tier means the DOI resolver and landing pages are never fetched", async () => {
    const w = byScenario("unpaywall_pdf");
    const r = await h.run(w);
    expect(r.ok).toBe(true);
    expect(h.sim.services.doi.requests.filter((x) => x.path.includes(`sim.${w.n}`)).length).toBe(0);
    expect(h.sim.sites.pub.hits(`/w${w.n}/article`).length).toBe(0);
  });

  test("resolvers of a tier are asked in parallel", async () => {
    const w = parallelApis[0] as TestWork;
    h.sim.services.unpaywall.fault("*", { kind: "delay", ms: 250 });
    h.sim.services.crossref.fault("*", { kind: "delay", ms: 250 });
    try {
      const t0 = performance.now();
      const r = await h.run(w);
      expect(r.ok).toBe(true);
      const unpaywallAt = h.sim.services.unpaywall.requests.at(-1)?.at ?? 0;
      const crossrefAt = h.sim.services.crossref.requests.at(-1)?.at ?? 0;
      // Both asked before either answered.
      expect(Math.abs(unpaywallAt - crossrefAt)).toBeLessThan(200);
      expect(performance.now() - t0).toBeLessThan(1500);
    } finally {
      h.sim.services.unpaywall.fault("*", undefined);
      h.sim.services.crossref.fault("*", undefined);
    }
  });

  test("per-resolver concurrency is bounded across jobs by resolvers.<name>.max_concurrent", async () => {
    // The bound is the politeness gate's (one slot per request in flight): the real gate, then.
    const gates: Politeness[] = [];
    const realGate = (config: Config) => {
      const gate = new Politeness({ db: openPolitenessDb(), config, renewEveryMs: 0 });
      gates.push(gate);
      return gate;
    };
    const bounded = await startHarness(
      parallelApis,
      (c) => {
        c.resolvers.crossref.max_concurrent = 1;
      },
      realGate,
    );
    try {
      bounded.sim.services.crossref.fault("*", { kind: "delay", ms: 60 });
      const results = await Promise.all(parallelApis.map((w) => bounded.run(w)));
      expect(results.map((r) => r.ok)).toEqual([true, true, true, true]);
      expect(bounded.sim.services.crossref.maxConcurrency()).toBe(1);
      // The same jobs with a limit of 4 do overlap (the bound above is the limit, not an accident).
      const open = await startHarness(parallelApis, undefined, realGate);
      try {
        open.sim.services.crossref.fault("*", { kind: "delay", ms: 60 });
        await Promise.all(parallelApis.map((w) => open.run(w)));
        expect(open.sim.services.crossref.maxConcurrency()).toBeGreaterThan(1);
      } finally {
        await open.stop();
      }
    } finally {
      await bounded.stop();
      for (const g of gates) g.close();
    }
  });

  test("one URL offered by three resolvers (in different spellings) is tried once", async () => {
    const r = await h.run(sameUrlEverywhere);
    expect(r.ok ? "ok" : r.reason).toBe("not_found");
    expect(h.sim.sites.pub.hits("/w102/same.pdf").length).toBe(1);
    const recs = r.progress.candidates.filter((c) => c.key.endsWith("/w102/same.pdf"));
    expect(recs.map((c) => [c.resolver, c.state, c.reason])).toEqual([["unpaywall", "failed", "not_found"]]);
    expect(r.progress.resolvers.crossref?.state).toBe("settled");
  });

  test("HTML served as a PDF is scraped one level deep; the winner records the page it came from", async () => {
    const w = byScenario("html_as_pdf_then_landing");
    const r = await h.run(w);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.candidate.url).toBe(h.sim.url({ host: "pub", path: `/w${w.n}/real.pdf` }));
    expect(r.candidate.provenance).toMatchObject({
      via: h.sim.url({ host: "pub", path: `/w${w.n}/pdf-that-is-html` }),
      found_by: "citation_pdf_url",
    });
  });

  test("a landing page's relative link resolves against its <base href>", async () => {
    const w = byScenario("doi_landing_base_href");
    const r = await h.run(w);
    expect(r.ok && r.candidate.url).toBe(h.sim.url({ host: "pub", path: `/w${w.n}/content/v2/paper.pdf` }));
    expect(r.ok && r.candidate.provenance.via).toBe(`${h.sim.baseUrl("doi")}/${doi(w.n)}`);
  });

  test("max_candidates bounds the tries; the job ends budget_exhausted", async () => {
    const small = await startHarness([deadLinks], (c) => {
      c.download.max_candidates = 2;
    });
    try {
      const r = await small.run(deadLinks);
      expect(r.ok ? "ok" : [r.reason, r.transient]).toEqual(["budget_exhausted", false]);
      const tried = [1, 2, 3, 4, 5].map((i) => small.sim.sites.pub.hits(`/w103/dead${i}.pdf`).length);
      expect(tried).toEqual([1, 1, 0, 0, 0]);
      expect(small.sim.services.wayback.requests.length).toBe(0);
    } finally {
      await small.stop();
    }
  });

  test("job_budget_s aborts a candidate that hangs", async () => {
    const w = extra(110, {
      scenario: "hanging copy",
      ids: {},
      pdf_urls: [{ host: "flaky", path: "/w110/hang.pdf" }],
      pages: [{ at: { host: "flaky", path: "/w110/hang.pdf" }, page: { kind: "pdf" } }],
      expect: { obtained: false, reason: "budget_exhausted" },
    });
    const timed = await startHarness([w], (c) => {
      c.download.job_budget_s = 1;
    });
    try {
      timed.sim.sites.flaky.fault("/w110/hang.pdf", { kind: "hang" });
      const t0 = performance.now();
      const r = await timed.run(w);
      expect(r.ok ? "ok" : r.reason).toBe("budget_exhausted");
      expect(performance.now() - t0).toBeLessThan(2500);
    } finally {
      await timed.stop();
    }
  });

  test("resume: settled resolvers are not asked again, permanent failures not retried", async () => {
    const crossrefRoute = `/works/${encodeURIComponent(doi(104))}`;
    h.sim.services.crossref.fault(crossrefRoute, { kind: "status", status: 503 });
    const first = await h.run(resumable);
    h.sim.services.crossref.fault(crossrefRoute, undefined);
    expect(first.ok ? "ok" : [first.reason, first.transient]).toEqual(["http_503", true]);
    expect(first.progress.resolvers.unpaywall?.state).toBe("settled");
    expect(first.progress.resolvers.crossref?.state).toBe("unsettled");
    expect(first.progress.resolvers.semantic_scholar).toMatchObject({
      state: "settled",
      reason: "not_found",
    });
    const unpaywallAsked = requestsFor(`/v2/${doi(104)}`).length;
    const goneTried = h.sim.sites.pub.hits("/w104/gone.pdf").length;
    const doiAsked = requestsFor(`sim.104`).filter((x) => x.service === "doi").length;

    const saved = JSON.stringify(first.progress); // what the runner stores in jobs.progress
    const second = await h.run(resumable, { saved });
    expect(second.ok && second.candidate.resolver).toBe("crossref");
    expect(requestsFor(`/v2/${doi(104)}`).length).toBe(unpaywallAsked);
    expect(h.sim.sites.pub.hits("/w104/gone.pdf").length).toBe(goneTried);
    expect(requestsFor(`sim.104`).filter((x) => x.service === "doi").length).toBe(doiAsked);
  });

  test("the first valid file aborts its sibling downloads", async () => {
    const seen: { url: string; result: DownloadResult }[] = [];
    const trier = h.trier(slowAndFast);
    const t0 = performance.now();
    const r = await h.run(slowAndFast, {
      tryCandidate: async (c, signal, retries, span) => {
        const result = await trier(c, signal, retries, span);
        seen.push({ url: c.url, result });
        return result;
      },
    });
    expect(r.ok && r.candidate.url).toEqual(h.sim.url({ host: "pub", path: "/w105/fast.pdf" }));
    // The slow copy drips for ~3 s; it was cut off as soon as the fast one won.
    await Bun.sleep(50);
    const slow = seen.find((s) => s.url.endsWith("slow.pdf"));
    expect(slow?.result.ok === false && slow.result.reason).toBe("cancelled");
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  test("cancelling the job (lease lost, shutdown) ends it as cancelled, transient", async () => {
    const ctl = new AbortController();
    const w = { ...slowAndFast, pdf_urls: [{ host: "repo" as const, path: "/w105/slow.pdf" }] };
    setTimeout(() => ctl.abort(), 150);
    const r = await h.run(w, { signal: ctl.signal });
    expect(r.ok ? "ok" : [r.reason, r.transient]).toEqual(["cancelled", true]);
  });
});

describe("resolver answers and the archive tier", () => {
  test("progress is reported after every tier that ran, so a crash loses at most one tier", async () => {
    const w = byScenario("doi_landing_citation_meta");
    const seen: string[][] = [];
    const r = await h.run(w, { onProgress: (p) => seen.push(Object.keys(p.resolvers).sort()) });
    expect(r.ok && r.candidate.resolver).toBe("doi");
    expect(seen).toHaveLength(4); // direct, the APIs, the repositories, then doi+landing (which won)
    expect(seen[0]).toEqual(["direct"]);
    expect(seen[1]).toContain("unpaywall");
    expect(seen[2]).toContain("zenodo");
    expect(seen[3]).toContain("doi");
  });

  test("a non-JSON answer settles the resolver as malformed; the plan goes on", async () => {
    const w = byScenario("crossref_pdf");
    h.sim.services.unpaywall.route(
      `/v2/${doi(w.n)}`,
      () => new Response("<html>maintenance</html>", { status: 200 }),
    );
    const r = await h.run(w);
    expect(r.ok && r.candidate.resolver).toBe("crossref");
    expect(r.progress.resolvers.unpaywall).toMatchObject({ state: "settled", reason: "malformed" });
  });

  test("the archive is asked about the failed PDF and the landing pages, failed PDFs first", async () => {
    const w = byScenario("only_in_wayback");
    const before = h.sim.services.wayback.requests.length;
    const r = await h.run(w);
    expect(r.ok && r.candidate.provenance).toMatchObject({
      original_url: h.sim.url({ host: "pub", path: `/w${w.n}/gone.pdf` }),
    });
    const asked = h.sim.services.wayback.requests
      .slice(before)
      .map((x) => new URL(x.path, "http://x").searchParams.get("url"));
    expect(asked[0]).toBe(h.sim.url({ host: "pub", path: `/w${w.n}/gone.pdf` }));
    expect(asked).toContain(`${h.sim.baseUrl("doi")}/${doi(w.n)}`);
  });

  test("a landing page is read only up to resolvers.landing.max_page_bytes", async () => {
    const r = await h.run(bigLanding);
    expect(r.ok ? "ok" : r.reason).toBe("html_only");
    expect(h.sim.sites.repo.hits("/w111/late.pdf").length).toBe(0);
  });
});

describe("credentials", () => {
  test("a resolver failure note persisted with the job never carries the API key or contact email", async () => {
    const w = byScenario("unknown_doi");
    const r = await h.run(w);
    const stored = JSON.stringify(r.progress);
    expect(r.progress.resolvers.openalex).toMatchObject({ state: "settled", reason: "not_found" });
    expect(r.progress.resolvers.openalex?.note).toContain("api_key=REDACTED");
    expect(stored).not.toContain(h.config.resolvers.openalex.api_key as string);
    expect(stored).not.toContain(h.config.contact_email as string);
  });
});
