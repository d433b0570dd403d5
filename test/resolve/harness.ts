// Runs the plan against the simulated APIs and sites through the real HTTP client and the real
// download pipeline (politeness is the in-memory port unless a test brings a gate; the transport
// refuses anything but loopback).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { type Config, ConfigSchema } from "../../src/config/schema.ts";
import { createHttpClient, type Transport } from "../../src/net/fetch.ts";
import type { PolitenessGate } from "../../src/net/politeness-port.ts";
import type { HttpClient } from "../../src/net/types.ts";
import { downloadTrier } from "../../src/resolve/attempt.ts";
import { type PlanResult, runPlan, type TryCandidate } from "../../src/resolve/plan.ts";
import type { PlanProgress } from "../../src/resolve/progress.ts";
import { resolverSettings } from "../../src/resolve/resolver.ts";
import type { ResolvableWork } from "../../src/resolve/types.ts";
import { type SimApis, startApis } from "../support/apis.ts";
import type { TestWork } from "../support/catalogue.ts";
import { MemoryPoliteness } from "../support/politeness.ts";
import { type SimWeb, startWeb } from "../support/web.ts";

export const loopbackOnly: Transport = (url, init) => {
  if (!/^127\.\d+\.\d+\.\d+$/.test(new URL(url).hostname))
    throw new Error(`test transport: refusing to dial ${url}`);
  return fetch(url, init);
};

export interface Harness {
  web: SimWeb;
  sim: SimApis;
  config: Config;
  http: HttpClient;
  outDir: string;
  artifact(w: TestWork): ResolvableWork;
  /** The production trier (download pipeline) for a work. */
  trier(w: TestWork): TryCandidate;
  run(
    w: TestWork,
    o?: {
      saved?: unknown;
      signal?: AbortSignal;
      onProgress?: (p: PlanProgress) => void;
      tryCandidate?: TryCandidate;
    },
  ): Promise<PlanResult>;
  stop(): Promise<void>;
}

export async function startHarness(
  works: TestWork[],
  patch: (c: Config) => void = () => {},
  /** The politeness gate of the client (default: the in-memory port, which limits no resolver). */
  gate: (c: Config) => PolitenessGate = () => new MemoryPoliteness(),
): Promise<Harness> {
  const web = await startWeb();
  const sim = await startApis(web, works);
  const config = v.parse(ConfigSchema, sim.configInput());
  patch(config);
  const http = createHttpClient({
    config,
    politeness: gate(config),
    version: "0.0.0-test",
    lookup: web.lookup,
    transport: loopbackOnly,
    random: () => 0,
  });
  const outDir = mkdtempSync(join(tmpdir(), "docstokg-resolve-"));
  const settings = resolverSettings(config);
  const artifact = (w: TestWork): ResolvableWork => ({
    id: `w${w.n}`,
    ...w.ids,
    pdf_urls: w.pdf_urls?.map(sim.url),
    landing_urls: w.landing_urls?.map(sim.url),
  });
  const trier = (w: TestWork) =>
    downloadTrier({ http, outDir, download: config.download, now: Date.now }, { artifactId: `w${w.n}` });
  return {
    web,
    sim,
    config,
    http,
    outDir,
    artifact,
    trier,
    run: (w, o = {}) =>
      runPlan(
        artifact(w),
        {
          config,
          settings,
          http,
          signal: o.signal,
          onProgress: o.onProgress,
          tryCandidate: o.tryCandidate ?? trier(w),
        },
        o.saved,
      ),
    async stop() {
      await web.stop();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}
