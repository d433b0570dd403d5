// A run over simulated Unpaywall answers (the built binary: queue import, queue run --drain,
// manifest export, queue show): for every obtained work the outcome carries the licence, version,
// host type and OA status its answer gave, normalized, in the manifest, the JSONL and CSV exports
// and `queue show`.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startApis } from "../support/apis.ts";
import { emptyDir, runBinary } from "../support/binary.ts";
import type { TestWork } from "../support/catalogue.ts";
import { prepareRunDir } from "../support/catalogue-run.ts";
import { startWeb } from "../support/web.ts";

type Said = NonNullable<TestWork["unpaywall"]>;
/** A work whose only copy is the one its Unpaywall answer names, described as `said`. */
function viaUnpaywall(n: number, said: Omit<Said, "pdf">, landingOnly = false): TestWork {
  const pdf = { host: "repo" as const, path: `/u${n}/copy.pdf` };
  const page = { host: "repo" as const, path: `/u${n}/record` };
  return {
    n,
    scenario: `unpaywall ${said.hostType} ${said.version}`,
    ids: { doi: `10.5555/prov.${n}` },
    pages: [
      { at: pdf, page: { kind: "pdf" } },
      ...(landingOnly ? [{ at: page, page: { kind: "landing" as const, pdfUrl: pdf.path } }] : []),
    ],
    unpaywall: landingOnly ? { ...said, landing: page } : { ...said, pdf },
    expect: { obtained: true, resolver: landingOnly ? "landing" : "unpaywall" },
  };
}

const works = [
  viaUnpaywall(301, {
    hostType: "publisher",
    version: "publishedVersion",
    license: "cc-by",
    oaStatus: "gold",
  }),
  viaUnpaywall(302, { hostType: "repository", version: "acceptedVersion", license: null, oaStatus: "green" }),
  viaUnpaywall(303, {
    hostType: "repository",
    version: "submittedVersion",
    license: "cc-by-nc-nd",
    oaStatus: "green",
  }),
  viaUnpaywall(304, {
    hostType: "publisher",
    version: "publishedVersion",
    license: "publisher-specific-oa",
    oaStatus: "hybrid",
  }),
  // Found on the landing page Unpaywall named: the page's provenance goes with the file.
  viaUnpaywall(
    305,
    { hostType: "repository", version: "acceptedVersion", license: "cc0", oaStatus: "green" },
    true,
  ),
];
const expected: Record<
  string,
  { license: string | null; version: string; host_type: string; oa_status: string }
> = {
  "doi:10.5555/prov.301": {
    license: "cc-by",
    version: "published",
    host_type: "publisher",
    oa_status: "gold",
  },
  "doi:10.5555/prov.302": { license: null, version: "accepted", host_type: "repository", oa_status: "green" },
  "doi:10.5555/prov.303": {
    license: "cc-by-nc-nd",
    version: "submitted",
    host_type: "repository",
    oa_status: "green",
  },
  "doi:10.5555/prov.304": {
    license: "publisher-specific-oa",
    version: "published",
    host_type: "publisher",
    oa_status: "hybrid",
  },
  "doi:10.5555/prov.305": {
    license: "cc0",
    version: "accepted",
    host_type: "repository",
    oa_status: "green",
  },
};

const web = await startWeb();
const sim = await startApis(web, works);
const dir = emptyDir("docstokg-provenance-");
const run = prepareRunDir(dir, sim, works, { orchestrator: { drain_max_delay_s: 3 } });
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
const cli = (args: string[]) => runBinary([...args, "--config", run.configFile], { cwd: dir, env });
afterAll(async () => {
  await web.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** RFC 4180 records (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted && ch === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (quoted && ch === '"') quoted = false;
    else if (quoted) field += ch;
    else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else field += ch;
  }
  return rows;
}

type Line = Record<string, unknown> & { artifact_id: string };
const pick = (l: Record<string, unknown>) => ({
  license: l.license ?? null,
  version: l.version,
  host_type: l.host_type,
  oa_status: l.oa_status,
});

describe("provenance of a run over Unpaywall answers", () => {
  test("every obtained work carries what its answer said, in the manifest and both exports", async () => {
    expect((await cli(["queue", "import", run.worksFile])).code).toBe(0);
    const ran = await cli(["queue", "run", "--drain", "--workers", "4"]);
    expect(ran.code).toBe(0);

    const manifest = readFileSync(join(run.stateDir, "manifest.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Line);
    // Lines come in finish order.
    const byWork = (a: Line, b: Line) => a.artifact_id.localeCompare(b.artifact_id);
    expect(manifest.sort(byWork).map((l) => [l.artifact_id, l.state, l.resolver])).toEqual(
      works.map((w) => [`doi:${w.ids.doi}`, "done", w.expect.obtained ? w.expect.resolver : ""]),
    );
    expect(Object.fromEntries(manifest.map((l) => [l.artifact_id, pick(l)]))).toEqual(expected);
    // No licence URL came from Unpaywall: the key is present and null.
    expect(manifest.map((l) => l.license_url)).toEqual(works.map(() => null));

    const jsonl = await cli(["manifest", "export", "--format", "jsonl"]);
    expect(jsonl.code).toBe(0);
    const exported = jsonl.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Line);
    expect(Object.fromEntries(exported.map((l) => [l.artifact_id, pick(l)]))).toEqual(expected);

    const csv = await cli(["manifest", "export", "--format", "csv"]);
    expect(csv.code).toBe(0);
    const [header, ...rows] = parseCsv(csv.stdout);
    const col = (name: string) => (header ?? []).indexOf(name);
    for (const name of ["license", "license_url", "version", "host_type", "oa_status"])
      expect(col(name)).toBeGreaterThan(0);
    const fromCsv = Object.fromEntries(
      rows.map((r) => [
        r[col("artifact_id")] as string,
        {
          license: r[col("license")] || null,
          version: r[col("version")],
          host_type: r[col("host_type")],
          oa_status: r[col("oa_status")],
        },
      ]),
    );
    expect(fromCsv).toEqual(expected);
  }, 120_000);

  test("queue show lists the provenance of the outcome", async () => {
    const shown = await cli(["queue", "show", "doi:10.5555/prov.303"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("license  cc-by-nc-nd");
    expect(shown.stdout).toContain("version  submitted");
    expect(shown.stdout).toContain("host     repository");
    expect(shown.stdout).toContain("oa       green");
    const json = await cli(["queue", "show", "doi:10.5555/prov.301", "--json"]);
    const detail = JSON.parse(json.stdout) as { outcomes: Record<string, unknown>[] };
    expect(detail.outcomes.at(-1)).toMatchObject({
      license: "cc-by",
      version: "published",
      hostType: "publisher",
      oaStatus: "gold",
    });
  }, 60_000);
});
