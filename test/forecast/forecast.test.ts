// `docstokg plan`: the pace of one source (rate or concurrency bound, quota days, ETA across UTC
// midnights) and the forecast over a queue database (which sources each job may still ask).
import { describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { normalizeArtifact } from "../../src/artifact/artifact.ts";
import { duration, forecastText } from "../../src/cli/plan.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import { forecastQueue } from "../../src/forecast/demand.ts";
import { DAY_MS, planSource, type SourceLimits } from "../../src/forecast/forecast.ts";
import { resolverSettings } from "../../src/resolve/resolver.ts";
import { openDatabase } from "../../src/store/db.ts";
import { enqueueJobs } from "../../src/store/jobs/enqueue.ts";
import { commitPage, sqlitePullStore, startPull } from "../../src/store/pulls.ts";
import { sqliteReads } from "../../src/store/sqlite/reads.ts";
import { recordUsage, sqliteUsageStore } from "../../src/store/usage.ts";
import { tempDir } from "../support/temp.ts";

const NOON = Date.UTC(2026, 2, 2, 12, 0, 0);
const limits = (o: Partial<SourceLimits> = {}): SourceLimits => ({
  source: "unpaywall",
  host: "api.unpaywall.org",
  intervalMs: 100,
  concurrency: 8,
  usedToday: 0,
  blockedUntil: 0,
  costPerRequestUsd: 0,
  ...o,
});

describe("one source", () => {
  test("the rate sets the pace when it is slower than the concurrency allows", () => {
    const p = planSource(600, limits(), NOON);
    expect(p).toMatchObject({ bound: "rate", seconds: 60, rate_per_s: 10, quota_days: null });
    expect(p.eta).toBe(NOON + 60_000);
  });

  test("a single connection with a fast rate is bound by its concurrency", () => {
    const p = planSource(100, limits({ intervalMs: 10, concurrency: 1 }), NOON);
    expect(p).toMatchObject({ bound: "concurrency", seconds: 50 });
  });

  test("a daily limit spreads the requests over UTC days and moves the ETA past midnights", () => {
    // 2,500 requests, 1,000 a day, 400 used today: 600 today, 1,000 tomorrow, 900 the day after.
    const p = planSource(2500, limits({ dailyLimit: 1000, usedToday: 400 }), NOON);
    expect(p.quota_days).toBe(3);
    expect(p.eta).toBe(Date.UTC(2026, 2, 3) + DAY_MS + 900 * 100);
    const fits = planSource(500, limits({ dailyLimit: 1000, usedToday: 400 }), NOON);
    expect(fits.quota_days).toBe(1);
    expect(fits.eta).toBe(NOON + 50_000);
  });

  test("a spent quota today starts tomorrow; an announced block delays the start", () => {
    expect(planSource(10, limits({ dailyLimit: 100, usedToday: 100 }), NOON)).toMatchObject({
      quota_days: 1,
      eta: Date.UTC(2026, 2, 3) + 1000,
    });
    expect(planSource(10, limits({ blockedUntil: NOON + 3_600_000 }), NOON).eta).toBe(
      NOON + 3_600_000 + 1000,
    );
  });

  test("durations read like people write them", () => {
    expect(duration(0)).toBe("0s");
    expect(duration(90)).toBe("1m 30s");
    expect(duration(200_000)).toBe("2d 7h");
  });
});

describe("over the queue", () => {
  test("each job counts the sources its identifiers allow and its saved progress has not settled", async () => {
    const dir = tempDir("forecast");
    const db = openDatabase(join(dir, "queue.db"));
    try {
      const config = v.parse(ConfigSchema, {
        contact_email: "librarian@example.org",
        resolvers: {
          tiers: [["direct"], ["unpaywall", "crossref", "pmc", "openalex"], ["wayback"]],
          unpaywall: { daily_limit: 2 },
          openalex: { api_key: "k" },
          wayback: { max_lookups: 3 },
        },
      });
      const art = (x: unknown) => {
        const p = normalizeArtifact(x);
        if (!p.ok) throw new Error(p.reason);
        return p.value;
      };
      enqueueJobs(
        db,
        [
          art({ doi: "10.1/a" }),
          art({ doi: "10.1/b" }),
          art({ doi: "10.1/c", pmcid: "PMC123" }),
          art({ pdf_urls: ["https://example.org/x.pdf"] }),
        ],
        NOON,
      );
      // Job b already has Unpaywall's answer in its progress: it will not ask again.
      db.query("UPDATE jobs SET progress = ? WHERE artifact_id = 'doi:10.1/b'").run(
        JSON.stringify({
          version: 1,
          resolvers: { unpaywall: { state: "settled", found: 0 } },
          candidates: [],
          derived: {},
        }),
      );
      db.query("UPDATE jobs SET state = 'done' WHERE artifact_id = 'doi:10.1/a'").run();
      enqueueJobs(db, [art({ doi: "10.1/d" })], NOON);
      recordUsage(db, { source: "unpaywall", day: "2026-03-02", requests: 1, costUsd: 0, now: NOON });
      const pull = startPull(db, "is_oa:true", "", NOON);
      commitPage(db, {
        pullId: pull.id,
        cursor: "*",
        nextCursor: "c2",
        works: [],
        invalid: 0,
        count: 1000,
        costUsd: 0.0001,
        now: NOON,
      });

      const state = { reads: sqliteReads(db), usage: sqliteUsageStore(db), pulls: sqlitePullStore(db) };
      const f = await forecastQueue(state, config, resolverSettings(config), NOON);
      expect(f.jobs).toBe(4);
      const by = Object.fromEntries(f.sources.map((s) => [s.source, s]));
      // b (settled), c and d have DOIs; unpaywall: c, d. crossref and openalex: b, c, d.
      expect(by.unpaywall?.requests).toBe(2);
      expect(by.crossref?.requests).toBe(3);
      expect(by.openalex?.requests).toBe(3);
      // pmc converts a DOI or PMID into a PMCID: c has one already.
      expect(by.pmc?.requests).toBe(2);
      expect(by.wayback?.requests).toBe(12);
      // Unpaywall: 1 used of 2 today, so one today and one tomorrow.
      expect(by.unpaywall?.quota_days).toBe(2);
      expect(f.eta_bound_by).toBe("unpaywall");
      expect(f.eta?.startsWith("2026-03-03T00:00")).toBe(true);
      // The pull has 1,000 works left to read: 5 list pages plus the empty last one.
      expect(f.openalex).toEqual({ lookups_usd: 0, pulls_usd: 0.0006, total_usd: 0.0006 });
      const text = forecastText(f, NOON);
      expect(text).toContain("4 jobs queued or in progress");
      expect(text).toMatch(/unpaywall\s+api\.unpaywall\.org\s+2\s+10\/s/);
      expect(text).toContain("set by unpaywall");
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
