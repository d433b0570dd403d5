// A state directory ready for `queue run` over the simulated scholarly web: the catalogue as an
// import file of artifacts (identifiers and own URLs as a user would have them) and a config file
// pointing every resolver at the simulated APIs. Shared by the runner tests, benchmarks and the demo.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ConfigInput } from "../../src/config/schema.ts";
import type { SimApis } from "./apis.ts";
import type { TestWork } from "./catalogue.ts";

/** The artifact line a user would import for a work. */
export function artifactOf(w: TestWork, sim: Pick<SimApis, "url">): Record<string, unknown> {
  const a: Record<string, unknown> = { ...w.ids, meta: { n: w.n, scenario: w.scenario } };
  if (w.pdf_urls?.length) a.pdf_urls = w.pdf_urls.map(sim.url);
  if (w.landing_urls?.length) a.landing_urls = w.landing_urls.map(sim.url);
  return a;
}

export interface RunDir {
  dir: string;
  configFile: string;
  worksFile: string;
  stateDir: string;
  outDir: string;
}

/** Deep-merge plain objects (config overrides on top of the simulated web's config). */
function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v &&
      typeof v === "object" &&
      !Array.isArray(v) &&
      prev &&
      typeof prev === "object" &&
      !Array.isArray(prev)
        ? merge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** Writes `docstokg.json` and `works.jsonl` into `dir`. */
export function prepareRunDir(
  dir: string,
  sim: SimApis,
  works: TestWork[],
  overrides: ConfigInput = {},
): RunDir {
  const stateDir = join(dir, "state");
  const outDir = join(dir, "library");
  const configFile = join(dir, "docstokg.json");
  const worksFile = join(dir, "works.jsonl");
  const config = merge(
    merge(sim.configInput() as Record<string, unknown>, {
      state_dir: stateDir,
      out_dir: outDir,
      queue: { backoff_base_s: 0.2, backoff_cap_s: 1, heartbeat_s: 1 },
      orchestrator: { poll_interval_s: 0.1, drain_max_delay_s: 30 },
      status: { enabled: false },
    }),
    overrides as Record<string, unknown>,
  );
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  writeFileSync(worksFile, works.map((w) => `${JSON.stringify(artifactOf(w, sim))}\n`).join(""));
  return { dir, configFile, worksFile, stateDir, outDir };
}
