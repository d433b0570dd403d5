// `resolvers.prefer_version`: the ordering rule on its own, and the plan holding a tier's candidates
// until its slowest resolver answered, then trying them in version order.
import { describe, expect, test } from "bun:test";
import { defaultConfig, type PreferVersion } from "../../src/config/schema.ts";
import type { HttpClient, HttpRequest } from "../../src/net/types.ts";
import { runPlan } from "../../src/resolve/plan.ts";
import { resolverSettings } from "../../src/resolve/resolver.ts";
import { nextIndex, versionRank } from "../../src/resolve/version-order.ts";

type Q = { kind: "pdf" | "landing"; provenance?: { version?: string }; name: string };
const q = (name: string, kind: "pdf" | "landing", version?: string): Q => ({
  name,
  kind,
  provenance: version ? { version } : {},
});

/** The names in the order nextIndex hands them out. */
function order(queue: Q[], prefer: PreferVersion): string[] {
  const rest = [...queue];
  const out: string[] = [];
  for (let i = nextIndex(rest, prefer); i >= 0; i = nextIndex(rest, prefer))
    out.push((rest.splice(i, 1)[0] as Q).name);
  return out;
}

describe("version order", () => {
  const queue = [
    q("none", "pdf"),
    q("sub", "pdf", "submitted"),
    q("landing-pub", "landing", "published"),
    q("acc", "pdf", "accepted"),
    q("pub", "pdf", "publishedVersion"),
    q("acc2", "pdf", "acceptedVersion"),
  ];
  test("any: arrival order, PDFs before landing pages", () => {
    expect(order(queue, "any")).toEqual(["none", "sub", "acc", "pub", "acc2", "landing-pub"]);
  });
  test("accepted: accepted first (arrival order among them), then published, submitted, unknown", () => {
    expect(order(queue, "accepted")).toEqual(["acc", "acc2", "pub", "sub", "none", "landing-pub"]);
  });
  test("published and submitted", () => {
    expect(order(queue, "published")).toEqual(["pub", "acc", "acc2", "sub", "none", "landing-pub"]);
    expect(order(queue, "submitted")).toEqual(["sub", "pub", "acc", "acc2", "none", "landing-pub"]);
  });
  test("ranks: the preferred version 0, unknown versions last", () => {
    expect(versionRank("vor", "published")).toBe(0);
    expect(versionRank(undefined, "published")).toBeGreaterThan(versionRank("submittedVersion", "published"));
    expect(versionRank("anything", "any")).toBe(0);
  });
  test("an empty queue has nothing next", () => {
    expect(nextIndex([], "published")).toBe(-1);
  });
});

/** A metadata client answering from a table, each answer after its own delay. */
function fakeHttp(answers: Record<string, { body: unknown; delayMs: number }>): HttpClient {
  return {
    async request(req: HttpRequest) {
      const key = Object.keys(answers).find((k) => req.url.startsWith(k));
      if (!key) return { ok: false, reason: "not_found", message: `no answer for ${req.url}`, url: req.url };
      const a = answers[key] as { body: unknown; delayMs: number };
      await Bun.sleep(a.delayMs);
      const bytes = new TextEncoder().encode(JSON.stringify(a.body));
      return {
        ok: true,
        response: {
          status: 200,
          headers: new Headers({ "content-type": "application/json" }),
          url: req.url,
          redirects: [req.url],
          body: new Response(bytes).body,
          rateWaitMs: 0,
          release() {},
        },
      };
    },
  };
}

describe("prefer_version in the plan", () => {
  // Unpaywall answers at once with an accepted manuscript; Crossref, slower, has the version of record.
  const http = fakeHttp({
    "https://api.unpaywall.org/": {
      delayMs: 0,
      body: {
        is_oa: true,
        oa_status: "green",
        best_oa_location: {
          url_for_pdf: "https://repo.example/accepted.pdf",
          version: "acceptedVersion",
          host_type: "repository",
        },
        oa_locations: [],
      },
    },
    "https://api.crossref.org/": {
      delayMs: 60,
      body: {
        message: {
          link: [
            {
              URL: "https://pub.example/vor.pdf",
              "content-type": "application/pdf",
              "content-version": "vor",
            },
          ],
        },
      },
    },
  });

  async function tried(prefer: PreferVersion): Promise<string[]> {
    const config = defaultConfig();
    config.contact_email = "lib@example.org";
    config.resolvers.tiers = [["unpaywall", "crossref"]];
    config.resolvers.prefer_version = prefer;
    config.resolvers.candidate_concurrency = 1;
    const urls: string[] = [];
    const r = await runPlan(
      { id: "doi:10.1/x", doi: "10.1/x" },
      {
        config,
        settings: resolverSettings(config),
        http,
        tryCandidate: async (c) => {
          urls.push(c.url);
          return { ok: false, reason: "not_found", message: `${c.url}: 404`, url: c.url, bytes: 0 };
        },
      },
    );
    expect(r.ok).toBe(false);
    return urls;
  }

  test("any: the first answer's candidate goes first", async () => {
    expect(await tried("any")).toEqual(["https://repo.example/accepted.pdf", "https://pub.example/vor.pdf"]);
  });
  test("published: the tier waits for Crossref, then the version of record goes first", async () => {
    expect(await tried("published")).toEqual([
      "https://pub.example/vor.pdf",
      "https://repo.example/accepted.pdf",
    ]);
  });
  test("accepted: the accepted manuscript first", async () => {
    expect(await tried("accepted")).toEqual([
      "https://repo.example/accepted.pdf",
      "https://pub.example/vor.pdf",
    ]);
  });
});
