// Crash safety of the main job: the built runner is killed with SIGKILL at random moments of a
// few-hundred-work run and restarted each time. At the end every job is terminal, every stored file
// matches its recorded SHA-256, the manifest holds each outcome exactly once, no temp file remains,
// and no work was downloaded again after its result had been committed.
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { startApis } from "../support/apis.ts";
import { emptyDir, runBinary } from "../support/binary.ts";
import { prepareRunDir } from "../support/catalogue-run.ts";
import { makePdf } from "../support/pdf.ts";
import { type SimHost, startWeb } from "../support/web.ts";
import { corruptFiles, manifestLines, openState, spawnRunner, stateCounts, tempFiles } from "./harness.ts";

const WORKS = 300;
const KILLS = 5;
const HOSTS = 6;

/** Deterministic randomness, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const web = await startWeb();
const sim = await startApis(web, []);
const dir = emptyDir("docstokg-crash-");
afterAll(async () => {
  await web.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(`${KILLS} random kill -9 during a ${WORKS}-work run: nothing lost, nothing twice, nothing corrupt`, async () => {
  const random = prng(Number(process.env.CRASH_SEED ?? 7));
  const hosts: SimHost[] = [];
  for (let i = 0; i < HOSTS; i++) hosts.push(await web.host({ name: `crash${i}.site.test` }));
  const urls: string[] = [];
  for (let n = 0; n < WORKS; n++) {
    const host = hosts[n % HOSTS] as SimHost;
    const path = `/c${n}.pdf`;
    host.pdf(path, makePdf(`crash work ${n}`, { minBytes: 12_000 }));
    // Slow bodies, so kills land mid-download as well as between commits.
    if (n % 3 === 0) host.fault(path, { kind: "drip", chunkBytes: 3000, intervalMs: 15 });
    urls.push(host.url(path));
  }
  const run = prepareRunDir(dir, sim, [], {
    queue: { lease_ttl_s: 1.5, heartbeat_s: 0.3 },
    // Slots a killed runner held expire on their own; a high host limit keeps them from stalling the test.
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
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
  expect(
    (await runBinary(["queue", "import", run.worksFile, "--config", run.configFile], { cwd: dir, env })).code,
  ).toBe(0);
  const args = ["queue", "run", "--drain", "--workers", "16", "--config", run.configFile];
  const requestsNow = () => hosts.reduce((n, h) => n + h.requests.length, 0);

  let kills = 0;
  for (let i = 0; i < KILLS; i++) {
    const before = requestsNow();
    const runner = await spawnRunner(args, { cwd: dir, env });
    // Let it work a little (a random amount), then kill it without warning.
    const target = before + 10 + Math.floor(random() * 40);
    while (requestsNow() < target && runner.proc.exitCode === null) await Bun.sleep(2);
    await Bun.sleep(Math.floor(random() * 60));
    if (runner.proc.exitCode === null) {
      runner.proc.kill("SIGKILL");
      kills++;
    }
    await runner.exited;
  }
  expect(kills).toBeGreaterThanOrEqual(KILLS - 1);

  const last = await runBinary(args, { cwd: dir, env });
  expect(last.code).toBe(0);

  const db = openState(run.stateDir);
  try {
    expect(stateCounts(db)).toEqual({ queued: 0, in_progress: 0, done: WORKS, skipped: 0, error: 0 });
    expect(corruptFiles(db, run.outDir)).toEqual([]);
    const lines = manifestLines(run.stateDir);
    expect(lines.length).toBe(WORKS);
    expect(new Set(lines.map((l) => l.seq)).size).toBe(WORKS);
    expect(new Set(lines.map((l) => l.artifact_id)).size).toBe(WORKS);
    expect(tempFiles(run.outDir)).toEqual([]);
    // After a job's outcome committed, its file was never requested again.
    const committed = db
      .query<{ url: string; finished_at: number }, []>("SELECT url, finished_at FROM outcomes")
      .all();
    const late: string[] = [];
    for (const o of committed) {
      const u = new URL(o.url);
      const host = hosts.find((h) => h.address === u.hostname && h.port === Number(u.port)) as SimHost;
      for (const r of host.hits(u.pathname))
        if (performance.timeOrigin + r.at > o.finished_at + 50)
          late.push(`${o.url} at +${Math.round(performance.timeOrigin + r.at - o.finished_at)} ms`);
    }
    expect(late).toEqual([]);
  } finally {
    db.close();
  }
}, 120_000);
