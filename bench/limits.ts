// Politeness limits: (1) the per-request cost of the limiter, the URL gate and the breaker (database
// rate reservation, host slot, breaker/cool-down state, keyed limiters, address vetting), alone and
// behind the real HTTP client, against a bare fetch of a loopback server measured in the same run, in
// wall-clock and CPU time; (2) accuracy: 3 processes sharing one database hammer two loopback hosts
// for 20 s and every arrival is checked against burst + rate × t and the host limit.
//
// Usage: bun bench/limits.ts [--requests N] [--accuracy-s S] [--no-accuracy]
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { type ConfigInput, ConfigSchema } from "../src/config/schema.ts";
import { createHttpClient } from "../src/net/fetch.ts";
import { createUrlGate } from "../src/net/gate.ts";
import type { PolitenessGate } from "../src/net/politeness-port.ts";
import { Politeness } from "../src/politeness/politeness.ts";
import { MIGRATIONS } from "../src/store/migrations.ts";
import { accuracyJob, type HammerJob, type HammerResult } from "../test/politeness/hammer.ts";
import { windowShortfallMs } from "../test/politeness/windows.ts";
import { type SimHost, startWeb } from "../test/support/web.ts";

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const N = option("--requests", 3000);
const accuracyS = option("--accuracy-s", 20);

const dir = mkdtempSync(join(tmpdir(), "docstokg-limits-"));
function openDb(path: string): Database {
  const db = new Database(path, { create: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = NORMAL");
  db.run("PRAGMA busy_timeout = 10000");
  return db;
}
function migrate(db: Database) {
  // The politeness tables: their migration and the later ones that extend them.
  for (const m of MIGRATIONS) if (m.name === "politeness" || m.name === "breaker_reason") m.up(db);
}

/** Wraps a gate and adds up the time spent inside it (acquire until it resolves, observe, release). */
function timed(gate: PolitenessGate) {
  const spent = { us: 0 };
  const wrapped: PolitenessGate = {
    async acquire(p) {
      const t0 = performance.now();
      const r = await gate.acquire(p);
      spent.us += (performance.now() - t0) * 1000;
      if (!r.ok) return r;
      return {
        ...r,
        release() {
          const t1 = performance.now();
          r.release();
          spent.us += (performance.now() - t1) * 1000;
        },
      };
    },
    observe(host, o) {
      const t0 = performance.now();
      gate.observe(host, o);
      spent.us += (performance.now() - t0) * 1000;
    },
    setMinInterval: (host, ms) => gate.setMinInterval(host, ms),
  };
  return { wrapped, spent };
}

async function overhead() {
  const body = new Uint8Array(4096).fill(65);
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(body) });
  const host = `127.0.0.1:${server.port}`;
  const url = `http://${host}/a.pdf`;
  const input: ConfigInput = {
    politeness: { robots: false, hosts: { [host]: { rate: "1000000/s", burst: 1000 } } },
  };
  const config = v.parse(ConfigSchema, input);
  config.network.allow_private = ["127.0.0.0/8"];
  const db = openDb(join(dir, "overhead.db"));
  migrate(db);
  const gate = new Politeness({ db, config });
  const inside = timed(gate);
  const noop: PolitenessGate = {
    acquire: async () => ({ ok: true, waitedMs: 0, release() {} }),
    observe() {},
    setMinInterval() {},
  };
  // Both clients go through the same timing wrapper, so the difference between them is the gate's.
  const plain = createHttpClient({ config, politeness: timed(noop).wrapped, version: "bench" });
  const polite = createHttpClient({ config, politeness: inside.wrapped, version: "bench" });

  const cases: Record<string, () => Promise<void>> = {
    "bare fetch": async () => {
      const r = await fetch(url);
      await r.arrayBuffer();
    },
    "gate alone (acquire+observe+release)": async () => {
      const p = await gate.acquire({ host, role: "artifact", resolver: "direct", maxWaitMs: 10_000 });
      if (!p.ok) throw new Error(p.reason);
      gate.observe(host, { status: 200 });
      p.release();
    },
    "client, no-op politeness": async () => {
      const r = await plain.request({ url, role: "artifact", resolver: "direct" });
      if (!r.ok) throw new Error(r.message);
      await new Response(r.response.body).arrayBuffer();
    },
    "client + politeness": async () => {
      const r = await polite.request({ url, role: "artifact", resolver: "direct" });
      if (!r.ok) throw new Error(r.message);
      await new Response(r.response.body).arrayBuffer();
    },
  };
  const deadline = performance.now() + 60_000;
  // Wall-clock and CPU time (user + system of this process, which also runs the server) per call:
  // on a shared machine the wall figure also holds the time spent waiting for a core.
  const time = async (fn: () => Promise<void>, n: number) => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let i = 0;
    for (; i < n && performance.now() < deadline; i++) await fn();
    const c = process.cpuUsage(c0);
    const calls = Math.max(1, i);
    return { us: ((performance.now() - t0) / calls) * 1000, cpuUs: (c.user + c.system) / calls, n: i };
  };
  for (const fn of Object.values(cases)) await time(fn, 200); // warm up every path
  // Many short interleaved rounds: loopback fetch drifts over a run (sockets pile up in TIME_WAIT),
  // so every case must see the same conditions.
  const ROUNDS = 20;
  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  const insideSamples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn] of Object.entries(cases)) {
      const before = inside.spent.us;
      const t = await time(fn, Math.ceil(N / ROUNDS));
      if (name === "client + politeness") insideSamples.push((inside.spent.us - before) / Math.max(1, t.n));
      wall[name] = [...(wall[name] ?? []), t.us];
      cpu[name] = [...(cpu[name] ?? []), t.cpuUs];
    }
  }
  // The URL gate's own check, as the client makes it before every hop (the host's vetted address
  // remembered, as for every request after a host's first).
  const urlGate = createUrlGate({ allowPrivate: config.network.allow_private });
  const parsed = new URL(url);
  await urlGate.check(parsed);
  const g0 = performance.now();
  for (let i = 0; i < 100_000; i++) {
    const v = urlGate.check(parsed);
    if (v instanceof Promise) await v;
  }
  const urlGateUs = ((performance.now() - g0) / 100_000) * 1000;
  server.stop(true);
  gate.close();
  db.close();
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const mw = (k: string) => med(wall[k] as number[]);
  const mc = (k: string) => med(cpu[k] as number[]);
  const bare = mw("bare fetch");
  console.log(`\n## overhead per request (median of ${ROUNDS} interleaved rounds, ${N} requests per case)`);
  console.log(
    `${"case".padEnd(38)} ${"wall µs".padStart(8)} ${"cpu µs".padStart(8)}   wall ratio to bare fetch`,
  );
  for (const name of Object.keys(cases)) {
    console.log(
      `${name.padEnd(38)} ${mw(name).toFixed(1).padStart(8)} ${mc(name).toFixed(1).padStart(8)}   ${(mw(name) / bare).toFixed(2)}`,
    );
  }
  const limiter = {
    wall: mw("client + politeness") - mw("client, no-op politeness"),
    cpu: mc("client + politeness") - mc("client, no-op politeness"),
  };
  console.log(`URL gate check (vetted host remembered): ${urlGateUs.toFixed(2)} µs/request`);
  console.log(`time inside the politeness gate, in the client: ${med(insideSamples).toFixed(1)} µs/request`);
  console.log(
    `limiter + gate + breaker overhead ((client + politeness) − (client, no-op politeness) + URL gate check): ` +
      `${(limiter.wall + urlGateUs).toFixed(1)} µs/request wall, ${(limiter.cpu + urlGateUs).toFixed(1)} µs cpu ` +
      `(target ≤ 100); ${(((limiter.wall + urlGateUs) / bare) * 100).toFixed(0)} % of a bare fetch`,
  );
  console.log(
    `the whole client over a bare fetch (also timeouts, body guard, headers; bench/fetch.ts): ` +
      `${(mw("client + politeness") - bare).toFixed(1)} µs wall, ${(mc("client + politeness") - mc("bare fetch")).toFixed(1)} µs cpu`,
  );
}

async function accuracy(seconds: number) {
  const web = await startWeb();
  try {
    const paced = await web.host({ name: "paced.test" });
    const narrow = await web.host({ name: "narrow.test" });
    paced.pdf("/a.pdf").fault("/a.pdf", { kind: "delay", ms: 20 });
    narrow.pdf("/b.pdf").fault("/b.pdf", { kind: "delay", ms: 100 });
    const key = (h: SimHost) => `${h.address}:${h.port}`;
    const dbPath = join(dir, "accuracy.db");
    const db = openDb(dbPath);
    migrate(db);
    db.close();
    const startAt = Date.now() + 1500;
    const durationMs = seconds * 1000;
    const job: HammerJob = accuracyJob(
      dbPath,
      {
        paced: { host: key(paced), url: paced.url("/a.pdf") },
        narrow: { host: key(narrow), url: narrow.url("/b.pdf") },
      },
      startAt,
      durationMs,
    );
    const script = join(import.meta.dir, "../test/politeness/hammer.ts");
    const children = [1, 2, 3].map(() =>
      Bun.spawn([process.execPath, script], {
        env: { ...process.env, HAMMER_JOB: JSON.stringify(job) },
        stdout: "pipe",
        stderr: "inherit",
      }),
    );
    const results: HammerResult[] = [];
    for (const c of children) {
      if ((await c.exited) !== 0) throw new Error("a load process failed");
      results.push(JSON.parse(await new Response(c.stdout).text()) as HammerResult);
    }
    console.log(`\n## accuracy: 3 processes, one database, ${seconds} s`);
    const report = (h: SimHost, intervalMs: number, burst: number, limit: number) => {
      const at = h.requests.map((r) => r.at);
      const bound = burst + durationMs / intervalMs;
      console.log(
        `${h.name.padEnd(12)} ${String(at.length).padStart(5)} requests (bound ${bound.toFixed(0)}), ` +
          `max in any 1 s window ${h.maxInWindow(1000)} (bound ${burst + 1000 / intervalMs}), ` +
          `worst window shortfall ${windowShortfallMs(at, intervalMs, burst).toFixed(1)} ms, ` +
          `max concurrency ${h.maxConcurrency()} (limit ${limit})`,
      );
    };
    report(paced, 50, 3, 4);
    report(narrow, 20, 1, 2);
    console.log(
      `per process sent: ${results.map((r) => r.sent).join(" / ")}; errors ${results.reduce((n, r) => n + r.errors, 0)}`,
    );
  } finally {
    await web.stop();
  }
}

try {
  await overhead();
  if (!flag("--no-accuracy")) await accuracy(accuracyS);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
