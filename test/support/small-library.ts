// A small real library written by the built binary: one loopback host serving distinct PDFs, their
// URLs enqueued as works, and `queue run --drain` storing them. For tests of what reads a library
// afterwards (report --verify, read-only commands, the layout migration).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BinaryResult, runBinary } from "./binary.ts";
import { makePdf } from "./pdf.ts";
import type { SimHost, SimWeb } from "./web.ts";

export interface SmallLibrary {
  dir: string;
  configFile: string;
  stateDir: string;
  outDir: string;
  host: SimHost;
  /** The PDFs' URLs, in the order served. */
  urls: string[];
  /** Runs the binary in `dir` with the config file appended. */
  run(args: readonly string[]): Promise<BinaryResult>;
}

/** Serves `count` PDFs on a new host of `web`, enqueues their URLs as works and drains the queue. */
export async function buildSmallLibrary(web: SimWeb, dir: string, count: number): Promise<SmallLibrary> {
  const host = await web.host();
  const urls: string[] = [];
  for (let i = 0; i < count; i++) {
    host.pdf(`/paper/${i}.pdf`, makePdf(`Paper number ${i}`, { minBytes: 2048 }));
    urls.push(host.url(`/paper/${i}.pdf`));
  }
  const stateDir = join(dir, "state");
  const outDir = join(dir, "library");
  const configFile = join(dir, "docstokg.json");
  const config = {
    state_dir: stateDir,
    out_dir: outDir,
    network: { allow_private: ["127.0.0.0/8"] },
    politeness: { rates: { artifact: "1000/s", metadata: "1000/s", landing: "1000/s" }, max_per_host: 8 },
    queue: { backoff_base_s: 0.2, backoff_cap_s: 1, heartbeat_s: 1 },
    orchestrator: { poll_interval_s: 0.05, drain_max_delay_s: 5 },
    status: { enabled: false },
    resolvers: { wayback: { enabled: false } },
  };
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
  const run = (args: readonly string[]) => runBinary([...args, "--config", configFile], { cwd: dir, env });
  const enq = await run(["queue", "enqueue", ...urls]);
  if (enq.code !== 0) throw new Error(`enqueue failed: ${enq.stderr}`);
  const drained = await run(["queue", "run", "--drain"]);
  if (drained.code !== 0) throw new Error(`queue run failed: ${drained.stderr}`);
  return { dir, configFile, stateDir, outDir, host, urls, run };
}
