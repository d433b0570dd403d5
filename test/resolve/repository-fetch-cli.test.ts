// `docstokg fetch` (the built binary) obtains the open copy of a work from each repository source
// alone: CORE (its key from CORE_API_KEY), Zenodo, figshare (a POST search), HAL, OSF and OpenAIRE,
// answering in the shape of their recorded samples, and says what the source said about the copy.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FetchOutcome } from "../../src/cli/fetch-format.ts";
import type { ResolverName } from "../../src/config/schema.ts";
import { startApis } from "../support/apis.ts";
import { emptyDir, runBinary } from "../support/binary.ts";
import type { Loc, TestWork } from "../support/catalogue.ts";
import { startWeb } from "../support/web.ts";

const pdfAt = (n: number): Loc => ({ host: "repo", path: `/r${n}/copy.pdf` });
/** A work only one repository source knows (every other service answers "not found"). */
function only(n: number, source: ResolverName, extra: Partial<TestWork>): TestWork {
  return {
    n,
    scenario: `${source} only`,
    ids: { doi: `10.5555/repo.${n}` },
    pages: [{ at: pdfAt(n), page: { kind: "pdf" } }],
    expect: { obtained: true, resolver: source },
    ...extra,
  };
}

const works: TestWork[] = [
  only(201, "core", { core: { pdf: pdfAt(201) } }),
  only(202, "zenodo", { zenodo: { pdf: pdfAt(202), license: "cc-by-4.0", preprint: true } }),
  only(203, "figshare", { figshare: { pdf: pdfAt(203), license: "CC BY-NC 4.0" } }),
  only(204, "hal", { hal: { pdf: pdfAt(204), licence: "http://creativecommons.org/licenses/by-nd/" } }),
  only(205, "osf", { osf: { pdf: pdfAt(205) } }),
  only(206, "openaire", {
    openaire: { pdf: pdfAt(206), license: "https://creativecommons.org/publicdomain/zero/1.0/" },
  }),
];

const web = await startWeb();
const sim = await startApis(web, works);
const dir = emptyDir("docstokg-repo-fetch-");
const configFile = join(dir, "docstokg.json");
const input = sim.configInput();
const resolvers = input.resolvers ?? {};
writeFileSync(
  configFile,
  JSON.stringify({
    ...input,
    state_dir: join(dir, "state"),
    out_dir: join(dir, "library"),
    resolvers: {
      ...resolvers,
      // The key comes from the environment, as documented.
      core: { base_url: resolvers.core?.base_url },
      hal: { ...resolvers.hal, enabled: true },
      osf: { ...resolvers.osf, enabled: true },
      openaire: { ...resolvers.openaire, enabled: true },
    },
  }),
);
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, CORE_API_KEY: "core-key-from-env" };
afterAll(async () => {
  await web.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function fetchOne(w: TestWork): Promise<FetchOutcome> {
  const r = await runBinary(["fetch", "--config", configFile, "--json", w.ids.doi as string], {
    cwd: dir,
    env,
  });
  const lines = r.stdout.trim().split("\n").filter(Boolean);
  expect(lines).toHaveLength(1);
  const o = JSON.parse(lines[0] as string) as FetchOutcome;
  expect([o.ok, o.resolver, r.code, o.message ?? ""]).toEqual([
    true,
    w.expect.obtained ? w.expect.resolver : "",
    0,
    "",
  ]);
  expect(
    readFileSync(o.path as string)
      .subarray(0, 5)
      .toString(),
  ).toBe("%PDF-");
  expect(o.url).toBe(sim.url(pdfAt(w.n)));
  return o;
}

const provenance = (o: FetchOutcome) => ({
  license: o.license,
  license_url: o.license_url,
  version: o.version,
  host_type: o.host_type,
});

describe("docstokg fetch from each repository source", () => {
  test("core: with the key from CORE_API_KEY, sent as a bearer token", async () => {
    const o = await fetchOne(works[0] as TestWork);
    expect(provenance(o)).toEqual({
      license: undefined,
      license_url: undefined,
      version: undefined,
      host_type: "repository",
    });
    const asked = sim.services.core.requests.filter((q) => q.path.startsWith("/v3/search/works"));
    expect(asked.map((q) => q.headers.get("authorization"))).toEqual(["Bearer core-key-from-env"]);
  }, 60_000);

  test("zenodo: the record's PDF file, its licence and preprint version", async () => {
    const o = await fetchOne(works[1] as TestWork);
    expect(provenance(o)).toEqual({
      license: "cc-by",
      license_url: undefined,
      version: "submitted",
      host_type: "repository",
    });
  }, 60_000);

  test("figshare: found by a POST search with the documented body", async () => {
    const searches = () => sim.services.figshare.requests.filter((q) => q.path === "/v2/articles/search");
    const before = searches().length;
    const o = await fetchOne(works[2] as TestWork);
    expect(o.license).toBe("cc-by-nc");
    expect(
      searches()
        .slice(before)
        .map((q) => q.method),
    ).toEqual(["POST"]);
  }, 60_000);

  test("hal: the main file, the licence URL kept beside its short name", async () => {
    const o = await fetchOne(works[3] as TestWork);
    expect(provenance(o)).toEqual({
      license: "cc-by-nd",
      license_url: "http://creativecommons.org/licenses/by-nd/",
      version: undefined,
      host_type: "repository",
    });
  }, 60_000);

  test("osf: the preprint's primary file, a submitted version", async () => {
    const o = await fetchOne(works[4] as TestWork);
    expect(provenance(o)).toEqual({
      license: undefined,
      license_url: undefined,
      version: "submitted",
      host_type: "repository",
    });
  }, 60_000);

  test("openaire: the open instance's PDF with its licence", async () => {
    const o = await fetchOne(works[5] as TestWork);
    expect([o.license, o.license_url]).toEqual(["cc0", "https://creativecommons.org/publicdomain/zero/1.0/"]);
  }, 60_000);
});
