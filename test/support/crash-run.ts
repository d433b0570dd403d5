// The crash scenario shared by test/runner/crash.test.ts and bench/runner.ts: works with direct PDF
// URLs over a few simulated hosts (a third of them with slow bodies), the built runner started with
// --drain and killed with SIGKILL at random moments, restarted each time, then run to the end.
// Returns what the end state proves (or disproves).
import { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SimApis } from "./apis.ts";
import { builtBinary, runBinary } from "./binary.ts";
import { prepareRunDir } from "./catalogue-run.ts";
import { makePdf } from "./pdf.ts";
import type { SimHost, SimWeb } from "./web.ts";

/** Deterministic randomness, so a failure can be replayed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CrashResult {
  kills: number;
  exitCode: number | null;
  counts: Record<string, number>;
  /** Stored files whose bytes do not match their recorded SHA-256. */
  corrupt: string[];
  manifestLines: number;
  manifestSeqs: number;
  manifestArtifacts: number;
  tempFiles: string[];
  /** Requests for a work's file that arrived after its outcome had committed. */
  late: string[];
  seconds: number;
}

export async function crashRun(o: {
  web: SimWeb;
  sim: SimApis;
  dir: string;
  works: number;
  kills: number;
  hosts: number;
  seed: number;
}): Promise<CrashResult> {
  const started = performance.now();
  const random = prng(o.seed);
  const hosts: SimHost[] = [];
  for (let i = 0; i < o.hosts; i++) hosts.push(await o.web.host({ name: `crash${i}.site.test` }));
  const urls: string[] = [];
  for (let n = 0; n < o.works; n++) {
    const host = hosts[n % o.hosts] as SimHost;
    const path = `/c${n}.pdf`;
    host.pdf(path, makePdf(`crash work ${n}`, { minBytes: 12_000 }));
    // Slow bodies, so kills land mid-download as well as between commits.
    if (n % 3 === 0) host.fault(path, { kind: "drip", chunkBytes: 3000, intervalMs: 15 });
    urls.push(host.url(path));
  }
  const run = prepareRunDir(o.dir, o.sim, [], {
    queue: { lease_ttl_s: 1.5, heartbeat_s: 0.3 },
    // Slots a killed runner held expire on their own; a high host limit keeps them from stalling the run.
    politeness: { max_per_host: 200 },
    orchestrator: { drain_max_delay_s: 5, poll_interval_s: 0.05 },
    // One runner at a time here, so the start-up sweep may take every leftover of a killed run (a
    // lock or partial body caught mid-write) instead of waiting a day for it to age.
    download: { temp_max_age_s: 0 },
  });
  await Bun.write(
    run.worksFile,
    urls.map((u, n) => `${JSON.stringify({ pdf_urls: [u], meta: { n } })}\n`).join(""),
  );
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: o.dir };
  const imported = await runBinary(["queue", "import", run.worksFile, "--config", run.configFile], {
    cwd: o.dir,
    env,
  });
  if (imported.code !== 0) throw new Error(`import failed: ${imported.stderr}`);
  const args = ["queue", "run", "--drain", "--workers", "16", "--config", run.configFile];
  const requestsNow = () => hosts.reduce((n, h) => n + h.requests.length, 0);
  const binary = await builtBinary();

  let kills = 0;
  for (let i = 0; i < o.kills; i++) {
    const before = requestsNow();
    const proc = Bun.spawn([binary, ...args], { cwd: o.dir, env, stdout: "ignore", stderr: "ignore" });
    // Let it work a little (a random amount), then kill it without warning.
    const target = before + 10 + Math.floor(random() * 40);
    while (requestsNow() < target && proc.exitCode === null) await Bun.sleep(2);
    await Bun.sleep(Math.floor(random() * 60));
    if (proc.exitCode === null) {
      proc.kill("SIGKILL");
      kills++;
    }
    await proc.exited;
  }
  const last = await runBinary(args, { cwd: o.dir, env });

  const db = new Database(join(run.stateDir, "queue.db"), { readonly: true });
  try {
    const counts: Record<string, number> = { queued: 0, in_progress: 0, done: 0, skipped: 0, error: 0 };
    for (const r of db
      .query<{ state: string; n: number }, []>("SELECT state, count(*) AS n FROM jobs GROUP BY state")
      .all())
      counts[r.state] = r.n;
    const outcomes = db
      .query<{ url: string | null; path: string | null; sha256: string | null; finished_at: number }, []>(
        "SELECT url, path, sha256, finished_at FROM outcomes",
      )
      .all();
    const corrupt: string[] = [];
    const late: string[] = [];
    for (const oc of outcomes) {
      if (oc.path) {
        const file = join(run.outDir, oc.path);
        const sha = existsSync(file)
          ? createHash("sha256").update(readFileSync(file)).digest("hex")
          : "missing";
        if (sha !== oc.sha256) corrupt.push(`${oc.path}: ${sha}`);
      }
      if (!oc.url) continue;
      const u = new URL(oc.url);
      const host = hosts.find((h) => h.address === u.hostname && h.port === Number(u.port));
      for (const r of host?.hits(u.pathname) ?? []) {
        const at = performance.timeOrigin + r.at;
        if (at > oc.finished_at + 50) late.push(`${oc.url} at +${Math.round(at - oc.finished_at)} ms`);
      }
    }
    const manifest = join(run.stateDir, "manifest.jsonl");
    const lines = existsSync(manifest)
      ? readFileSync(manifest, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { seq: number; artifact_id: string })
      : [];
    const tmp = join(run.outDir, ".tmp");
    return {
      kills,
      exitCode: last.code,
      counts,
      corrupt,
      manifestLines: lines.length,
      manifestSeqs: new Set(lines.map((l) => l.seq)).size,
      manifestArtifacts: new Set(lines.map((l) => l.artifact_id)).size,
      tempFiles: existsSync(tmp) ? readdirSync(tmp) : [],
      late,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    db.close();
  }
}
