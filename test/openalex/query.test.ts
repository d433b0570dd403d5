// The pure side of a pull: what identifies it, the page URL it asks, what a page says, the estimate.
import { expect, test } from "bun:test";
import {
  budgetHeaders,
  estimatePull,
  filterProblem,
  normalizeFilter,
  PageShapeError,
  pageUrl,
  parseWorksPage,
  pullQuery,
} from "../../src/openalex/query.ts";
import { fixtureJson } from "../support/fixtures.ts";

test("spelling differences of one filter and search are the same pull", () => {
  const a = pullQuery(" is_oa:true, Publication_Year:>2019 ,is_oa:true", "  coral   bleaching ");
  const b = pullQuery("publication_year:>2019,is_oa:true", "coral bleaching");
  expect(a).toEqual(b);
  expect(normalizeFilter("type:article|preprint,type:preprint|article")).toBe("type:article|preprint");
  // Values keep their case; boolean search operators too.
  expect(normalizeFilter("authorships.institutions.lineage:I27837315")).toBe(
    "authorships.institutions.lineage:I27837315",
  );
  expect(pullQuery("", "coral AND reef").search).toBe("coral AND reef");
});

test("a filter item without key:value is named", () => {
  expect(filterProblem("publication_year:>2019,is_oa")).toContain('"is_oa"');
  expect(filterProblem("publication_year:>2019,is_oa:true")).toBeUndefined();
});

test("the page URL carries filter, search, per-page, cursor, select, mailto and the key", () => {
  const url = new URL(
    pageUrl({
      baseUrl: "https://api.openalex.org/",
      query: pullQuery("is_oa:true", "coral"),
      cursor: "*",
      apiKey: "k",
      email: "a@b.org",
    }),
  );
  expect(url.pathname).toBe("/works");
  expect(Object.fromEntries(url.searchParams)).toEqual({
    filter: "is_oa:true",
    search: "coral",
    "per-page": "200",
    cursor: "*",
    select: "id,doi,title,publication_year,ids,open_access,best_oa_location,primary_location,locations",
    mailto: "a@b.org",
    api_key: "k",
  });
});

test("the recorded page maps to its works, count, next cursor and cost", () => {
  const page = parseWorksPage(fixtureJson("openalex-works-page.json"), 2);
  expect(page.count).toBe(429);
  expect(page.costUsd).toBe(0.0001);
  expect(page.nextCursor).toStartWith("IlsyLjU2");
  expect(page.works.map((w) => w.id)).toEqual([
    "doi:10.1073/pnas.0800208105",
    expect.stringMatching(/^doi:/),
    expect.stringMatching(/^doi:/),
  ]);
  expect(page.works[0]?.pdf_urls).toContain("https://www.pnas.org/content/pnas/105/27/9445.full.pdf");
  expect(page.works.every((w) => w.priority === 2)).toBe(true);
  const last = parseWorksPage(fixtureJson("openalex-works-page-last.json"));
  expect(last).toMatchObject({ nextCursor: null, works: [], invalid: 0 });
  expect(() => parseWorksPage({ error: "x" })).toThrow(PageShapeError);
});

test("estimates: pages of 200 plus the empty last page, list or search prices, observed cost first", () => {
  expect(estimatePull(1234, pullQuery("is_oa:true", ""))).toEqual({ count: 1234, pages: 8, costUsd: 0.0008 });
  expect(estimatePull(1234, pullQuery("", "coral"))).toEqual({ count: 1234, pages: 8, costUsd: 0.008 });
  expect(estimatePull(1234, pullQuery("is_oa:true", ""), 1000, 0.0002).pages).toBe(3);
  expect(estimatePull(0, pullQuery("is_oa:true", "")).pages).toBe(1);
});

test("budget headers as OpenAlex names them", () => {
  const h = new Headers({
    "x-ratelimit-cost-usd": "0.0001",
    "x-ratelimit-remaining-usd": "199.9288",
    "x-ratelimit-limit-usd": "200",
    "x-ratelimit-remaining": "1999288",
    "x-ratelimit-reset": "39954",
  });
  expect(budgetHeaders(h)).toEqual({
    costUsd: 0.0001,
    remainingUsd: 199.9288,
    limitUsd: 200,
    remaining: 1999288,
    resetS: 39954,
  });
  expect(budgetHeaders(new Headers())).toEqual({});
});
