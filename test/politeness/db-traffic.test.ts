// The database traffic the gate promises (README "Database traffic"): a request on a healthy host
// costs one write, the rate reservation, and the shared state is read at most once per 50 ms.

import type { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import * as v from "valibot";
import { ConfigSchema } from "../../src/config/schema.ts";
import { Politeness } from "../../src/politeness/politeness.ts";
import { openPolitenessDb } from "./db.ts";
import { FakeClock } from "./fake-clock.ts";

/** Count every statement the database runs, by its first words. */
function counted(db: Database): Map<string, number> {
  const counts = new Map<string, number>();
  const note = (sql: string) => {
    const key = sql.replace(/\s+/g, " ").trim().split(" ").slice(0, 3).join(" ");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const st = prepare(sql);
    for (const m of ["run", "get", "all", "values"] as const) {
      const f = st[m].bind(st) as (...a: unknown[]) => unknown;
      (st as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
        note(sql);
        return f(...a);
      };
    }
    return st;
  }) as typeof db.prepare;
  const run = db.run.bind(db);
  db.run = ((sql: string, ...a: unknown[]) => {
    note(sql);
    return (run as (...x: unknown[]) => unknown)(sql, ...a);
  }) as typeof db.run;
  return counts;
}

test("a request on a healthy host: one write (the rate reservation); row and waiters read once per 50 ms", async () => {
  const clock = new FakeClock(1_700_000_000_000, true);
  const db = openPolitenessDb();
  const counts = counted(db);
  const config = v.parse(ConfigSchema, { politeness: { hosts: { "a.example": { rate: "1000/s" } } } });
  const p = new Politeness({
    db,
    config,
    now: clock.now,
    sleep: clock.sleep,
    setTimer: clock.setTimeout,
    renewEveryMs: 0,
  });
  const once = async () => {
    const r = await p.acquire({
      host: "a.example",
      role: "metadata",
      resolver: "crossref",
      maxWaitMs: 10_000,
    });
    if (!r.ok) throw new Error(`expected a permit, got ${r.reason}`);
    p.observe("a.example", { status: 200 });
    r.release();
    await clock.advance(10);
  };
  await once(); // the first one takes the host slot in the database
  counts.clear();
  for (let i = 0; i < 20; i++) await once(); // 200 ms
  const n = (k: string) => counts.get(k) ?? 0;
  expect(n("INSERT INTO host_rate")).toBe(20);
  const writes = [...counts].filter(([k]) => /^(INSERT|UPDATE|DELETE|REPLACE|BEGIN)/i.test(k));
  expect(writes).toEqual([["INSERT INTO host_rate", 20]]);
  // The row (cool-down, breaker, crawl delay) and the waiters of other processes: every 50 ms.
  expect(n("SELECT host, cooldown_until,")).toBeLessThanOrEqual(5);
  expect(n("SELECT count(*) AS")).toBeLessThanOrEqual(5);
  expect([...counts.values()].reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(30);
  p.close();
});
