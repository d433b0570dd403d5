// Runner benchmarks (see bench/README.md), each printing its bound or baseline and the ratio:
//   (a) null-pipeline throughput: the real queue, leases, heartbeat, commits and manifest with an
//       instant step, against a bare lease(64)+ack loop on the same store;
//   (b) politeness-bound makespan over simulated hosts with rate and concurrency limits (and
//       misbehaving hosts), against the lower bound those limits set; plus one slow host holding
//       half the works, the others' works against their own bound;
//   (c) crash safety: random kill -9 of the built runner during a run, restarted each time;
//   (d) peak RSS with 64 workers over 1,000,000 queued jobs;
//   (e) back-pressure: a host answering every file twice with 503 + Retry-After before serving it,
//       against the bound its limits and announced waits set; requests inside an announced wait;
//   (f) crash recovery: kill -9 of a runner holding 64 leases, restarted at once; time until an
//       orphaned job runs again, against the lease TTL it would otherwise wait out.
//   bun bench/runner.ts [--only a,b,c,d,e,f] [--jobs 200000] [--dir .bench]
//   (child mode: --child rss|null …, used by the parent)
import { Database } from "bun:sqlite";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SQL } from "bun";
import * as v from "valibot";
import { runQueue } from "../src/app/queue-run.ts";
import { normalizeArtifact } from "../src/artifact/artifact.ts";
import { createLogger } from "../src/cli/log.ts";
import { type ConfigInput, ConfigSchema } from "../src/config/schema.ts";
import type { JobStep, StepResult } from "../src/runner/step.ts";
import { openDatabase } from "../src/store/db.ts";
import { migratePostgres } from "../src/store/postgres/migrations.ts";
import { PostgresJobQueue } from "../src/store/postgres/queue.ts";
import { queuePolicy, SqliteJobQueue } from "../src/store/sqlite-queue.ts";
import { startApis } from "../test/support/apis.ts";
import { builtBinary } from "../test/support/binary.ts";
import { crashRun } from "../test/support/crash-run.ts";
import { makePdf } from "../test/support/pdf.ts";
import { startTestPostgres, type TestPostgres } from "../test/support/postgres.ts";
import { type SimHost, startWeb } from "../test/support/web.ts";

const SELF = new URL(import.meta.url).pathname;

const { values } = parseArgs({
  options: {
    only: { type: "string", default: "a,b,c,d,e,f" },
    jobs: { type: "string", default: "200000" },
    dir: { type: "string", default: ".bench" },
    child: { type: "string" },
    state: { type: "string" },
    "database-url": { type: "string" },
  },
});

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
function report(name: string, value: string, target: string, ok: boolean): void {
  process.stdout.write(
    `${ok ? "PASS" : "FAIL"}  ${name.padEnd(58)} ${value.padStart(18)}   target ${target}\n`,
  );
}

const POLICY = { leaseTtlMs: 120_000, maxAttempts: 5, backoff: { baseMs: 30_000, capMs: 3_600_000 } };
const quiet = () => createLogger({ level: "warn", format: "json", sink: process.stderr });

/** Fill `jobs` with `n` ready rows straight in SQL (the import has its own benchmark). */
function fill(db: Database, n: number): void {
  const now = Date.now();
  db.run("BEGIN");
  db.query(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
     INSERT INTO jobs (artifact_id, artifact, state, available_at, created_at, updated_at, attempts)
     SELECT 'doi:10.6/' || i, json_object('id', 'doi:10.6/' || i, 'doi', '10.6/' || i), 'queued', ?2 - 1000, ?2, ?2, 0
     FROM n`,
  ).run(n, now);
  db.run("COMMIT");
  db.run("ANALYZE");
}

function freshState(dir: string, n: number): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const db = openDatabase(join(dir, "queue.db"));
  fill(db, n);
  db.close();
  return dir;
}

const NULL_RESULT: StepResult = {
  ok: true,
  reason: "ok",
  detail: { resolver: "direct", tier: 1, sha256: "0".repeat(64), bytes: 1, path: "pdf/00/null.pdf" },
  attempts: [],
};
export const nullStep: JobStep = async () => NULL_RESULT;

function config(stateDir: string, input: ConfigInput = {}) {
  return v.parse(ConfigSchema, {
    ...input,
    state_dir: stateDir,
    out_dir: join(stateDir, "library"),
    status: { enabled: false },
  });
}

// ---------------------------------------------------------------------------------------------
// (a) null-pipeline throughput

/** Jobs finishing together commit in one transaction, so the pool size sets the batch size. */
const WORKERS = 256;

async function benchNull(dir: string, n: number): Promise<void> {
  const state = freshState(join(dir, "null"), n);
  const t0 = performance.now();
  const summary = await runQueue({
    config: config(state, {
      orchestrator: { max_workers: WORKERS, lease_batch: 4 * WORKERS, poll_interval_s: 0.01 },
    }),
    log: quiet(),
    drain: true,
    statusAddress: null,
    progress: "off",
    step: nullStep,
    signals: false,
  });
  const rate = summary.acked / ((performance.now() - t0) / 1000);
  if (summary.acked !== n) throw new Error(`null pipeline acked ${summary.acked} of ${n}`);

  // Baseline: the same store driven by a bare loop, lease(64) then one ack per job.
  const base = freshState(join(dir, "null-raw"), n);
  const db = openDatabase(join(base, "queue.db"));
  const q = new SqliteJobQueue(db, POLICY, { now: Date.now });
  let done = 0;
  const t1 = performance.now();
  for (;;) {
    const jobs = await q.lease("bench", 64);
    if (jobs.length === 0) break;
    for (const job of jobs) if (await q.ack(job.id, job.token, { state: "done", reason: "ok" })) done++;
  }
  const raw = done / ((performance.now() - t1) / 1000);
  db.close();
  report(
    `(a) null pipeline, ${fmt(n)} jobs, ${WORKERS} workers, one process`,
    `${fmt(rate)} jobs/s`,
    "≥ 20,000 jobs/s",
    rate >= 20_000,
  );
  report("    bare lease(64)+ack loop on the same store", `${fmt(raw)} jobs/s`, "(baseline)", true);
  report("    runner / bare loop", `${((rate / raw) * 100).toFixed(1)} %`, "-", true);
}

// ---------------------------------------------------------------------------------------------
// (b) politeness-bound makespan

export interface HostPlan {
  host: SimHost;
  rate: number; // requests per second
  concurrency: number;
  works: number;
  /** Seconds each response takes (misbehaving slow host). */
  serviceS: number;
  /** Requests answered with a failure before the host behaves (each costs one more request). */
  extraRequests: number;
  /** Cool-down time the host imposes with Retry-After, seconds. */
  cooldownS: number;
  label: string;
  /** Requests the host takes back to back (default 1). */
  burst?: number;
}

/** The least time the host's limits allow for its works: rate, concurrency, imposed cool-downs. */
function hostBound(p: HostPlan): number {
  const requests = p.works + p.extraRequests;
  const byRate = (requests - 1) / p.rate;
  const byConcurrency = (p.works * p.serviceS) / p.concurrency;
  return Math.max(byRate, byConcurrency) + p.cooldownS;
}

/** Requests arriving faster than the host's rate or above its concurrency, as the host saw them. */
function violations(p: HostPlan): number {
  const files = (r: { path: string }) => r.path !== "/robots.txt";
  const overConcurrency = Math.max(0, p.host.maxConcurrency() - p.concurrency);
  // Any window of 10 intervals holds at most 10 requests plus the burst beyond the first; 5 % off
  // the window is arrival jitter.
  const window = (1000 / p.rate) * 10 * 0.95;
  const overRate = Math.max(0, p.host.maxInWindow(window, files) - (10 + (p.burst ?? 1) - 1));
  if (overConcurrency + overRate > 0)
    process.stdout.write(
      `      ${p.host.name}: ${overConcurrency} over concurrency ${p.concurrency}, ${overRate} over rate ${p.rate}/s${overRate > 0 ? `; gaps (ms) in the fullest window: ${fullestWindowGaps(p.host, window, files)}` : ""}\n`,
    );
  return overConcurrency + overRate;
}

/** The gaps between the arrivals of the fullest window: which request came too close after which. */
function fullestWindowGaps(
  host: SimHost,
  windowMs: number,
  filter: (r: { path: string }) => boolean,
): string {
  const at = host
    .hits("*")
    .filter(filter)
    .map((r) => r.at);
  let best = [0, 0];
  let lo = 0;
  for (let hi = 0; hi < at.length; hi++) {
    while ((at[hi] as number) - (at[lo] as number) >= windowMs) lo++;
    if (hi - lo > (best[1] as number) - (best[0] as number)) best = [lo, hi];
  }
  const gaps: string[] = [];
  for (let i = (best[0] as number) + 1; i <= (best[1] as number); i++)
    gaps.push(((at[i] as number) - (at[i - 1] as number)).toFixed(0));
  return gaps.join(" ");
}

export async function makespan(
  dir: string,
  plans: HostPlan[],
  workers: number,
  politeness: Record<string, unknown> = { max_wait_s: 1 },
  fleet?: { url: string; processes: number },
): Promise<{ seconds: number; finishedAt: Map<SimHost, number> }> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const hosts: Record<string, unknown> = {};
  const lines: string[] = [];
  for (const p of plans)
    hosts[new URL(p.host.url("/")).host] = {
      rate: `${p.rate}/s`,
      max_concurrent: p.concurrency,
      burst: p.burst ?? 1,
    };
  // Works of many hosts arrive mixed, as in real lists (a list sorted by host is the worst case: the
  // runner cannot know a work's host before resolving it, see bench/README.md).
  const most = Math.max(...plans.map((p) => p.works));
  for (let i = 0; i < most; i++)
    for (const p of plans)
      if (i < p.works) lines.push(JSON.stringify({ pdf_urls: [p.host.url(`/p${i}.pdf`)] }));
  if (fleet) return await fleetMakespan(dir, plans, workers, politeness, hosts, lines, fleet);
  const configFile = join(dir, "docstokg.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      state_dir: join(dir, "state"),
      out_dir: join(dir, "library"),
      network: { allow_private: ["127.0.0.0/8"] },
      // Every download here comes from the `direct` resolver, and per-resolver slots bound downloads
      // too (resolvers.direct.max_concurrent 4 by default): lift them so host limits are what binds.
      resolvers: { tiers: [["direct"]], direct: { max_concurrent: 1000 } },
      queue: { backoff_base_s: 0.2, backoff_cap_s: 1 },
      orchestrator: { max_workers: workers, lease_batch: 64, poll_interval_s: 0.05, drain_max_delay_s: 60 },
      politeness: { max_per_resolver: 1000, hosts, robots: false, breaker_failures: 50, ...politeness },
      status: { enabled: false },
    }),
  );
  writeFileSync(join(dir, "works.jsonl"), `${lines.join("\n")}\n`);
  const binary = await builtBinary();
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
  const imp = Bun.spawnSync([binary, "queue", "import", join(dir, "works.jsonl"), "--config", configFile], {
    env,
    cwd: dir,
  });
  if (imp.exitCode !== 0) throw new Error(`import failed: ${imp.stderr}`);
  const t0 = Date.now();
  const proc = Bun.spawn([binary, "queue", "run", "--drain", "--config", configFile], {
    env,
    cwd: dir,
    stdout: "ignore",
    stderr: "pipe",
  });
  const err = await new Response(proc.stderr).text();
  if ((await proc.exited) !== 0) throw new Error(`queue run failed: ${err.slice(-2000)}`);
  const cpu = proc.resourceUsage()?.cpuTime;
  if (cpu)
    process.stdout.write(
      `      runner CPU ${(Number(cpu.user + cpu.system) / 1e6).toFixed(1)} s (user ${(Number(cpu.user) / 1e6).toFixed(1)} s) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
    );
  const db = new Database(join(dir, "state", "queue.db"), { readonly: true });
  const finishedAt = new Map<SimHost, number>();
  let end = t0;
  for (const r of db
    .query<{ url: string; f: number }, []>("SELECT url, finished_at AS f FROM outcomes")
    .all()) {
    end = Math.max(end, r.f);
    const u = new URL(r.url);
    const p = plans.find((x) => x.host.address === u.hostname && x.host.port === Number(u.port));
    if (p) finishedAt.set(p.host, Math.max(finishedAt.get(p.host) ?? 0, (r.f - t0) / 1000));
  }
  const counts = db
    .query<{ state: string; n: number }, []>("SELECT state, count(*) AS n FROM jobs GROUP BY state")
    .all();
  db.close();
  const notDone = counts.filter((c) => c.state !== "done").reduce((n, c) => n + c.n, 0);
  if (notDone > 0) throw new Error(`makespan run left ${notDone} job(s) not done: ${JSON.stringify(counts)}`);
  return { seconds: (end - t0) / 1000, finishedAt };
}

async function benchPoliteness(dir: string, total: number, databaseUrl?: string): Promise<void> {
  const web = await startWeb();
  try {
    const pdf = makePdf("politeness bench", { minBytes: 4000 });
    const rates = [5, 10, 20];
    const plans: HostPlan[] = [];
    const sumRates = Array.from({ length: 30 }, (_, i) => rates[i % 3] as number).reduce((a, b) => a + b, 0);
    for (let i = 0; i < 30; i++) {
      const host = await web.host({ name: `polite${i}.test` });
      const rate = rates[i % 3] as number;
      const works = Math.round((total * rate) / sumRates);
      for (let w = 0; w < works; w++) host.pdf(`/p${w}.pdf`, pdf);
      plans.push({
        host,
        rate,
        concurrency: 1 + (i % 3),
        works,
        serviceS: 0,
        extraRequests: 0,
        cooldownS: 0,
        label: "",
      });
    }
    // Three misbehaving hosts: one asks to back off (429 + Retry-After), one is slow, one resets.
    const rude = plans[0] as HostPlan;
    const slow = plans[1] as HostPlan;
    const flaky = plans[2] as HostPlan;
    rude.host.fault("*", { kind: "status", status: 429, headers: { "retry-after": "2" }, times: 3 });
    Object.assign(rude, { extraRequests: 3, cooldownS: 6, label: "429 + Retry-After" });
    slow.host.fault("*", { kind: "delay", ms: 150 });
    Object.assign(slow, { serviceS: 0.15, label: "150 ms per answer" });
    flaky.host.fault("*", { kind: "reset", afterBytes: 100, times: 10 });
    Object.assign(flaky, { extraRequests: 10, label: "10 resets" });
    const n = plans.reduce((a, p) => a + p.works, 0);
    const bound = Math.max(...plans.map(hostBound));
    // Workers are cheap (a promise each): enough of them that jobs waiting up to max_wait_s for a
    // token on the slower hosts do not leave the faster hosts short (96 workers: 1.33 × bound).
    const { seconds } = await makespan(join(dir, "polite"), plans, 256);
    const v = plans.reduce((a, p) => a + violations(p), 0);
    const ratio = seconds / bound;
    report(
      `(b) ${fmt(n)} works over 30 hosts (3 misbehaving), makespan`,
      `${seconds.toFixed(1)} s`,
      `≤ 1.15 × bound`,
      ratio <= 1.15,
    );
    report(
      "    lower bound from the hosts' rate/concurrency limits",
      `${bound.toFixed(1)} s`,
      "(bound)",
      true,
    );
    report("    makespan / bound", ratio.toFixed(3), "≤ 1.15", ratio <= 1.15);
    report("    limit violations seen by the simulated hosts", String(v), "0", v === 0);
    if (databaseUrl) {
      // The same works split over 3 runner processes sharing one PostgreSQL: one budget for all.
      // The hosts keep their request logs: a pause longer than the widest window (10 intervals at
      // 5/s) keeps the two runs' requests out of each other's windows.
      await Bun.sleep(2_100);
      rude.host.fault("*", { kind: "status", status: 429, headers: { "retry-after": "2" }, times: 3 });
      flaky.host.fault("*", { kind: "reset", afterBytes: 100, times: 10 });
      const fleet = await makespan(join(dir, "polite-fleet"), plans, 256, undefined, {
        url: databaseUrl,
        processes: 3,
      });
      const fv = plans.reduce((a, p) => a + violations(p), 0);
      const fr = fleet.seconds / bound;
      // The hosts that finished last, against their own bounds: where a long makespan comes from.
      const last = [...fleet.finishedAt].sort((x, y) => y[1] - x[1]).slice(0, 4);
      for (const [h, t] of last) {
        const p = plans.find((x) => x.host === h) as HostPlan;
        process.stdout.write(
          `      ${h.name} (${p.rate}/s ×${p.concurrency}${p.label ? `, ${p.label}` : ""}): done at ${t.toFixed(1)} s, own bound ${hostBound(p).toFixed(1)} s\n`,
        );
      }
      report(
        "(b) the same over 3 runner processes on one PostgreSQL",
        `${fleet.seconds.toFixed(1)} s`,
        "≤ 1.15 × bound",
        fr <= 1.15,
      );
      report("    makespan / bound (fleet)", fr.toFixed(3), "≤ 1.15", fr <= 1.15);
      report("    limit violations seen by the simulated hosts (fleet)", String(fv), "0", fv === 0);
    }
  } finally {
    await web.stop();
  }

  // Half the works behind one host at 1 request per 3 s: the other hosts' works must not wait.
  const web2 = await startWeb();
  try {
    const pdf = makePdf("slow host bench", { minBytes: 4000 });
    const plans: HostPlan[] = [];
    const crawl = await web2.host({ name: "crawl.test" });
    for (let w = 0; w < 20; w++) crawl.pdf(`/p${w}.pdf`, pdf);
    plans.push({
      host: crawl,
      rate: 1 / 3,
      concurrency: 1,
      works: 20,
      serviceS: 0,
      extraRequests: 0,
      cooldownS: 0,
      label: "1 per 3 s",
    });
    for (let i = 0; i < 4; i++) {
      const host = await web2.host({ name: `quick${i}.test` });
      for (let w = 0; w < 5; w++) host.pdf(`/p${w}.pdf`, pdf);
      plans.push({
        host,
        rate: 2,
        concurrency: 1,
        works: 5,
        serviceS: 0,
        extraRequests: 0,
        cooldownS: 0,
        label: "",
      });
    }
    // Fewer workers than the slow host has works: holding them would starve everyone else.
    const { seconds, finishedAt } = await makespan(join(dir, "slowhost"), plans, 8);
    const others = plans.slice(1);
    const otherBound = Math.max(...others.map(hostBound));
    const otherDone = Math.max(...others.map((p) => finishedAt.get(p.host) ?? Number.POSITIVE_INFINITY));
    const slowBound = hostBound(plans[0] as HostPlan);
    report(
      "(b') 20 works behind a 1-per-3-s host + 20 on 4 other hosts",
      `${seconds.toFixed(1)} s`,
      `slow-host bound ${slowBound.toFixed(0)} s`,
      seconds <= slowBound * 1.15,
    );
    report(
      "    other hosts' works done after",
      `${otherDone.toFixed(2)} s`,
      `near their bound ${otherBound.toFixed(1)} s`,
      otherDone <= otherBound * 1.5 + 0.5,
    );
    report("    other hosts: done / bound", (otherDone / otherBound).toFixed(2), "-", true);
    const v = plans.reduce((a, p) => a + violations(p), 0);
    report("    limit violations seen by the simulated hosts", String(v), "0", v === 0);
  } finally {
    await web2.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// (c) crash safety

async function benchCrash(dir: string): Promise<void> {
  const web = await startWeb();
  try {
    const sim = await startApis(web, []);
    const d = join(dir, "crash");
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
    const r = await crashRun({ web, sim, dir: d, works: 2000, kills: 10, hosts: 8, seed: 11 });
    const ok =
      r.counts.done === 2000 &&
      r.corrupt.length === 0 &&
      r.manifestLines === 2000 &&
      r.manifestSeqs === 2000 &&
      r.manifestArtifacts === 2000 &&
      r.tempFiles.length === 0 &&
      r.late.length === 0;
    report(
      `(c) ${r.kills} random kill -9 during a 2,000-work run`,
      `${r.seconds.toFixed(1)} s`,
      "all below hold",
      ok,
    );
    report("    jobs done", `${fmt(r.counts.done ?? 0)} / 2,000`, "2,000", r.counts.done === 2000);
    report(
      "    stored files not matching their SHA-256",
      String(r.corrupt.length),
      "0",
      r.corrupt.length === 0,
    );
    report(
      "    manifest lines / distinct outcomes",
      `${r.manifestLines} / ${r.manifestArtifacts}`,
      "2000 / 2000",
      r.manifestLines === 2000 && r.manifestArtifacts === 2000,
    );
    report("    temp files left", String(r.tempFiles.length), "0", r.tempFiles.length === 0);
    report("    downloads after a committed outcome", String(r.late.length), "0", r.late.length === 0);
  } finally {
    await web.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// (d) memory with 64 workers over 1,000,000 queued jobs

async function childRss(state: string): Promise<void> {
  // A step that takes a little time, so 64 jobs are always in flight.
  const step: JobStep = async () => {
    await Bun.sleep(2);
    return NULL_RESULT;
  };
  let stop: (() => void) | undefined;
  const timer = setTimeout(() => stop?.(), 20_000);
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 100);
  const summary = await runQueue({
    config: config(state, { orchestrator: { max_workers: 64, lease_batch: 64 } }),
    log: quiet(),
    drain: true,
    statusAddress: "127.0.0.1:0",
    progress: "off",
    step,
    signals: false,
    onStart: (o) => {
      stop = () => o.stop();
    },
  });
  clearTimeout(timer);
  clearInterval(sampler);
  peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
  process.stdout.write(`${JSON.stringify({ peakMb: peak / 1024 / 1024, acked: summary.acked })}\n`);
}

async function benchRss(dir: string): Promise<void> {
  const state = freshState(join(dir, "rss"), 1_000_000);
  const proc = Bun.spawn([process.execPath, SELF, "--child", "rss", "--state", state], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error("rss child failed");
  const r = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as { peakMb: number; acked: number };
  report(
    "(d) peak RSS, 64 workers, 1,000,000 queued jobs (20 s)",
    `${r.peakMb.toFixed(0)} MB`,
    "≤ 200 MB",
    r.peakMb <= 200,
  );
  report("    jobs completed meanwhile", fmt(r.acked), "-", true);
}

// ---------------------------------------------------------------------------------------------
// (e) back-pressure handled inside the attempt

/**
 * Requests that arrived while the host had announced a wait: after a 503 + Retry-After answered at
 * t, nothing may arrive before t + wait. Requests of the same burst that were already on their way
 * when the 503 was answered arrive a few ms after it (seen: up to 10 ms on this 2-core machine, the
 * simulated host sharing the bench's event loop): 25 ms after the 503 is the allowance for them.
 */
function insideAnnouncedWaits(host: SimHost, waitMs: number): number {
  const log = host.hits("*").filter((r) => r.path !== "/robots.txt");
  const waits = log.filter((r) => r.faultStatus === 503).map((r) => r.at);
  let inside = 0;
  for (const r of log) {
    const t = waits.find((t) => r.at > t + 25 && r.at < t + waitMs - 5);
    if (t === undefined) continue;
    inside++;
    if (process.env.BENCH_VERBOSE)
      process.stdout.write(`      inside: ${r.path} ${(r.at - t).toFixed(1)} ms after a 503\n`);
  }
  return inside;
}

async function benchBackPressure(dir: string): Promise<void> {
  const web = await startWeb();
  try {
    const pdf = makePdf("back-pressure bench", { minBytes: 4000 });
    const host = await web.host({ name: "busy.repo.test" });
    const files = 40;
    const slowDowns = 2;
    const retryAfterS = 1;
    for (let w = 0; w < files; w++) {
      host.pdf(`/p${w}.pdf`, pdf);
      host.fault(`/p${w}.pdf`, {
        kind: "status",
        status: 503,
        headers: { "retry-after": String(retryAfterS) },
        times: slowDowns,
      });
    }
    const plan: HostPlan = {
      host,
      rate: 20,
      burst: 4,
      concurrency: 4,
      works: files,
      serviceS: 0,
      extraRequests: files * slowDowns,
      cooldownS: 0,
      label: "503 + Retry-After twice per file",
    };
    // Each 503 silences the whole host for Retry-After: at best `concurrency` of them share one
    // silence, so the waits alone take ceil(files × 503s per file / concurrency) × Retry-After; the
    // files themselves then go at the host's rate.
    const silences = Math.ceil((files * slowDowns) / plan.concurrency);
    const bound = silences * retryAfterS + files / plan.rate;
    const { seconds } = await makespan(join(dir, "backpressure"), [plan], 64, {});
    const ratio = seconds / bound;
    const inside = insideAnnouncedWaits(host, retryAfterS * 1000);
    const over = violations(plan);
    report(
      `(e) ${files} files, each answered twice with 503 + Retry-After: ${retryAfterS}`,
      `${seconds.toFixed(1)} s`,
      "≤ 1.3 × bound",
      ratio <= 1.3,
    );
    report(
      `    bound: ceil(${files}×${slowDowns}/${plan.concurrency}) × ${retryAfterS} s + ${files}/${plan.rate} s`,
      `${bound.toFixed(1)} s`,
      "(bound)",
      true,
    );
    report("    makespan / bound", ratio.toFixed(3), "≤ 1.3", ratio <= 1.3);
    report("    requests inside an announced wait", String(inside), "0", inside === 0);
    report("    rate/concurrency violations seen by the host", String(over), "0", over === 0);
  } finally {
    await web.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// (f) crash recovery: a restarted runner takes its dead predecessor's leases back at once

async function benchRecovery(dir: string): Promise<void> {
  const web = await startWeb();
  const procs: ReturnType<typeof Bun.spawn>[] = [];
  try {
    const d = join(dir, "recovery");
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
    const host = await web.host({ name: "hung.repo.test" });
    const pdf = makePdf("recovery bench", { minBytes: 4000 });
    const lines: string[] = [];
    for (let w = 0; w < 200; w++) {
      host.pdf(`/p${w}.pdf`, pdf);
      lines.push(JSON.stringify({ pdf_urls: [host.url(`/p${w}.pdf`)] }));
    }
    // Every answer takes 60 s: the runner holds its 64 leases when it is killed.
    host.fault("*", { kind: "delay", ms: 60_000 });
    const leaseTtlS = 120;
    const configFile = join(d, "docstokg.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        state_dir: join(d, "state"),
        out_dir: join(d, "library"),
        network: { allow_private: ["127.0.0.0/8"] },
        resolvers: { tiers: [["direct"]], direct: { max_concurrent: 1000 } },
        queue: { lease_ttl_s: leaseTtlS },
        orchestrator: { max_workers: 64, lease_batch: 64, poll_interval_s: 0.05 },
        politeness: {
          max_per_resolver: 1000,
          robots: false,
          hosts: { [new URL(host.url("/")).host]: { rate: "1000/s", max_concurrent: 100, burst: 100 } },
        },
        status: { enabled: false },
      }),
    );
    writeFileSync(join(d, "works.jsonl"), `${lines.join("\n")}\n`);
    const binary = await builtBinary();
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: d };
    const imp = Bun.spawnSync([binary, "queue", "import", join(d, "works.jsonl"), "--config", configFile], {
      env,
      cwd: d,
    });
    if (imp.exitCode !== 0) throw new Error(`import failed: ${imp.stderr}`);
    const start = () => {
      const p = Bun.spawn([binary, "queue", "run", "--config", configFile], {
        env,
        cwd: d,
        stdout: "ignore",
        stderr: "ignore",
      });
      procs.push(p);
      return p;
    };
    const db = new Database(join(d, "state", "queue.db"), { readonly: true });
    const held = (owner: string) =>
      db
        .query<{ n: number }, [string]>(
          "SELECT count(*) AS n FROM jobs WHERE state = 'in_progress' AND lease_owner = ?",
        )
        .get(owner)?.n ?? 0;
    const owners = () =>
      db
        .query<{ o: string }, []>("SELECT DISTINCT lease_owner AS o FROM jobs WHERE state = 'in_progress'")
        .all()
        .map((r) => r.o);
    const first = start();
    const deadline = Date.now() + 30_000;
    let victim: string | undefined;
    while (Date.now() < deadline) {
      victim = owners()[0];
      if (victim && held(victim) >= 64) break;
      await Bun.sleep(20);
    }
    if (!victim || held(victim) < 64) throw new Error("the first runner never held 64 leases");
    first.kill("SIGKILL");
    await first.exited;
    const orphans = held(victim);
    const restartedAt = performance.now();
    start();
    let again: number | undefined;
    while (performance.now() - restartedAt < leaseTtlS * 1000) {
      const o = owners().filter((x) => x !== victim);
      if (o.length > 0 && o.some((x) => held(x) > 0)) {
        again = (performance.now() - restartedAt) / 1000;
        break;
      }
      await Bun.sleep(20);
    }
    db.close();
    const s = again ?? Number.POSITIVE_INFINITY;
    report(
      `(f) kill -9 of a runner holding ${orphans} leases, restart: orphan running again`,
      `${s.toFixed(2)} s`,
      "≤ 5 s",
      s <= 5,
    );
    report("    without reclaim: the lease TTL to wait out", `${leaseTtlS} s`, "(baseline)", true);
    report("    recovery / lease TTL", (s / leaseTtlS).toFixed(3), "-", true);
  } finally {
    for (const p of procs) p.kill("SIGKILL");
    await web.stop();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (values.child === "rss") return childRss(values.state as string);
  const dir = resolve(values.dir);
  mkdirSync(dir, { recursive: true });
  const only = new Set(values.only.split(","));
  if (only.has("a")) await benchNull(dir, Number(values.jobs));
  let pg: TestPostgres | null = null;
  let databaseUrl = values["database-url"];
  if (databaseUrl === "auto" && only.has("b")) {
    pg = await startTestPostgres();
    if (!pg) throw new Error("--database-url auto: no PostgreSQL server binaries found");
    databaseUrl = await pg.createDatabase("bench");
  }
  try {
    if (only.has("b")) await benchPoliteness(dir, 5000, databaseUrl);
  } finally {
    await pg?.stop();
  }
  if (only.has("c")) await benchCrash(dir);
  if (only.has("d")) await benchRss(dir);
  if (only.has("e")) await benchBackPressure(dir);
  if (only.has("f")) await benchRecovery(dir);
}

if (import.meta.main) await main();

/** The same works split over `processes` runners, each with its own state directory, on one PostgreSQL. */
async function fleetMakespan(
  dir: string,
  plans: HostPlan[],
  workers: number,
  politeness: Record<string, unknown>,
  hosts: Record<string, unknown>,
  lines: string[],
  fleet: { url: string; processes: number },
): Promise<{ seconds: number; finishedAt: Map<SimHost, number> }> {
  const sql = new SQL({ url: fleet.url, max: 2 });
  try {
    await migratePostgres(sql);
    await sql`TRUNCATE jobs, outcomes, attempts, host_rate, host_slot, host_state, runners CASCADE`;
    const queue = new PostgresJobQueue(
      sql,
      queuePolicy({ lease_ttl_s: 30, max_attempts: 5, backoff_base_s: 0.2, backoff_cap_s: 1 } as never),
    );
    const artifacts = lines.map((l, i) => {
      const a = normalizeArtifact({ ...JSON.parse(l), meta: { i } });
      if (!a.ok) throw new Error(a.reason);
      return a.value;
    });
    await queue.enqueue(artifacts);
    const binary = await builtBinary();
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
    const configs = Array.from({ length: fleet.processes }, (_, i) => {
      const configFile = join(dir, `docstokg-${i}.json`);
      writeFileSync(
        configFile,
        JSON.stringify({
          state_dir: join(dir, `state${i}`),
          out_dir: join(dir, "library"),
          database_url: fleet.url,
          network: { allow_private: ["127.0.0.0/8"] },
          resolvers: { tiers: [["direct"]], direct: { max_concurrent: 1000 } },
          queue: { backoff_base_s: 0.2, backoff_cap_s: 1 },
          orchestrator: {
            max_workers: Math.ceil(workers / fleet.processes),
            lease_batch: 64,
            poll_interval_s: 0.05,
            drain_max_delay_s: 60,
          },
          politeness: { max_per_resolver: 1000, hosts, robots: false, breaker_failures: 50, ...politeness },
          status: { enabled: false },
        }),
      );
      return configFile;
    });
    const t0 = Date.now();
    const procs = configs.map((c) =>
      Bun.spawn([binary, "queue", "run", "--drain", "--config", c], {
        env,
        cwd: dir,
        stdout: "ignore",
        stderr: "pipe",
      }),
    );
    for (const proc of procs) {
      const err = await new Response(proc.stderr).text();
      if ((await proc.exited) !== 0) throw new Error(`queue run failed: ${err.slice(-2000)}`);
    }
    const finishedAt = new Map<SimHost, number>();
    let end = t0;
    for (const r of await sql<{ url: string; f: string }[]>`SELECT url, finished_at AS f FROM outcomes`) {
      const f = Number(r.f);
      end = Math.max(end, f);
      const u = new URL(r.url);
      const p = plans.find((x) => x.host.address === u.hostname && x.host.port === Number(u.port));
      if (p) finishedAt.set(p.host, Math.max(finishedAt.get(p.host) ?? 0, (f - t0) / 1000));
    }
    return { seconds: (end - t0) / 1000, finishedAt };
  } finally {
    await sql.close();
  }
}
