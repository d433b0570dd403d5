// A load generator for politeness across processes: opens the shared database, and from `workers`
// loops per target keeps acquiring the gate and sending a real request, until `endAt`. Run as a child
// process (`bun test/politeness/hammer.ts` with HAMMER_JOB='{…}') by the multi-process test and the
// accuracy benchmark; prints one JSON line of counts.
import { Database } from "bun:sqlite";
import * as v from "valibot";
import { type ConfigInput, ConfigSchema } from "../../src/config/schema.ts";
import type { Role } from "../../src/net/types.ts";
import { Politeness } from "../../src/politeness/politeness.ts";

export interface HammerJob {
  dbPath: string;
  config: ConfigInput;
  targets: Array<{ host: string; url: string; role: Role; workers: number }>;
  /** Epoch ms: start together, stop together. */
  startAt: number;
  endAt: number;
  maxWaitMs: number;
}

export interface HammerResult {
  pid: number;
  sent: number;
  refused: number;
  errors: number;
}

/** Where two simulated hosts are hammered: `paced` (rate-bound) and `narrow` (concurrency-bound). */
export interface HammerHosts {
  paced: { host: string; url: string };
  narrow: { host: string; url: string };
}

/**
 * The shared accuracy scenario of the multi-process test and bench/limits.ts: `paced` at 20/s with
 * burst 3 and 4 connections, `narrow` at 50/s with 2 connections, 3 loops per host per process.
 */
export function accuracyJob(
  dbPath: string,
  hosts: HammerHosts,
  startAt: number,
  durationMs: number,
): HammerJob {
  const { paced, narrow } = hosts;
  return {
    dbPath,
    config: {
      politeness: {
        hosts: {
          [paced.host]: { rate: "20/s", burst: 3, max_concurrent: 4 },
          [narrow.host]: { rate: "50/s", max_concurrent: 2 },
        },
      },
    },
    targets: [
      { host: paced.host, url: paced.url, role: "artifact", workers: 3 },
      { host: narrow.host, url: narrow.url, role: "artifact", workers: 3 },
    ],
    startAt,
    endAt: startAt + durationMs,
    maxWaitMs: 1000,
  };
}

export async function hammer(job: HammerJob): Promise<HammerResult> {
  const db = new Database(job.dbPath);
  db.run("PRAGMA busy_timeout = 10000");
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = NORMAL");
  const gate = new Politeness({ db, config: v.parse(ConfigSchema, job.config) });
  const result: HammerResult = { pid: process.pid, sent: 0, refused: 0, errors: 0 };
  await Bun.sleep(Math.max(0, job.startAt - Date.now()));
  const loop = async (t: HammerJob["targets"][number]) => {
    while (Date.now() < job.endAt) {
      const permit = await gate.acquire({
        host: t.host,
        role: t.role,
        maxWaitMs: Math.min(job.maxWaitMs, job.endAt - Date.now()),
      });
      if (!permit.ok) {
        result.refused++;
        await Bun.sleep(Math.max(1, Math.min(permit.retryAt, job.endAt) - Date.now()));
        continue;
      }
      try {
        if (Date.now() >= job.endAt) break;
        const res = await fetch(t.url);
        await res.arrayBuffer();
        gate.observe(t.host, { status: res.status });
        result.sent++;
      } catch {
        result.errors++;
      } finally {
        permit.release();
      }
    }
  };
  await Promise.all(job.targets.flatMap((t) => Array.from({ length: t.workers }, () => loop(t))));
  gate.close();
  db.close();
  return result;
}

if (import.meta.main) {
  const job = JSON.parse(process.env.HAMMER_JOB ?? "") as HammerJob;
  console.log(JSON.stringify(await hammer(job)));
}
