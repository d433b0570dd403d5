import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gcraReserve } from "../../src/store/gcra.ts";
import { emptyHostRow } from "../../src/store/host-state.ts";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import { SqliteHostStore as HostStore } from "../../src/store/sqlite/host-state.ts";
import { openPolitenessDb, politenessMigration } from "./db.ts";
import { prng } from "./prng.ts";

describe("migration 2 (politeness)", () => {
  test("is version 2 named politeness and creates the host tables", () => {
    const m = politenessMigration();
    expect(m.version).toBe(2);
    expect(MIGRATIONS.filter((x) => x.version === 2)).toHaveLength(1);
    const db = openPolitenessDb();
    const tables = db
      .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => r.name);
    expect(tables).toEqual(["host_rate", "host_slot", "host_state"]);
  });

  test("the breaker column only takes known states", () => {
    const db = openPolitenessDb();
    expect(() => db.run("INSERT INTO host_state (host, breaker) VALUES ('h', 'ajar')")).toThrow();
  });
});

describe("rate reservation in SQL", () => {
  test("computes exactly what gcraReserve computes, refusals included", () => {
    const store = new HostStore(openPolitenessDb());
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = prng(seed);
      const host = `h${seed}`;
      const interval = 0.5 + rnd() * 400;
      const burst = 1 + Math.floor(rnd() * 4);
      let tat = 0;
      let now = 1_000_000;
      for (let i = 0; i < 80; i++) {
        now += rnd() < 0.4 ? 0 : Math.floor(rnd() * interval * 2);
        const maxWait = rnd() < 0.3 ? 0 : rnd() * interval * 4;
        const expected = gcraReserve(tat, now, interval, burst, maxWait);
        const got = store.reserveRate(host, "artifact", now, interval, burst, maxWait);
        expect(got.allowed).toBe(expected.allowed);
        expect(got.startAt).toBeCloseTo(expected.startAt, 6);
        expect(got.tat).toBeCloseTo(expected.tat, 6);
        tat = expected.tat;
      }
    }
  });

  test("roles of a host keep separate budgets", () => {
    const store = new HostStore(openPolitenessDb());
    expect(store.reserveRate("h", "metadata", 0, 100, 1, 1e9).waitMs).toBe(0);
    expect(store.reserveRate("h", "artifact", 0, 500, 1, 1e9).waitMs).toBe(0);
    expect(store.reserveRate("h", "metadata", 0, 100, 1, 1e9).waitMs).toBe(100);
    expect(store.reserveRate("h", "artifact", 0, 500, 1, 1e9).waitMs).toBe(500);
  });

  test("survives closing and reopening the database file (a restart does not reset the budget)", () => {
    const dir = mkdtempSync(join(tmpdir(), "politeness-"));
    try {
      const path = join(dir, "state.db");
      const db1 = openPolitenessDb(path);
      new HostStore(db1).reserveRate("arxiv.org", "artifact", 0, 3000, 1, 1e9);
      db1.close();
      const again = new HostStore(openPolitenessDb(path, false)).reserveRate(
        "arxiv.org",
        "artifact",
        10,
        3000,
        1,
        1e9,
      );
      expect(again.waitMs).toBe(2990);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("host slots", () => {
  test("at most `limit` live slots per host; expired ones do not count", () => {
    const store = new HostStore(openPolitenessDb());
    expect(store.takeSlot("h", "t1", "A", 0, 1000, 2)).toBe(true);
    expect(store.takeSlot("h", "t2", "B", 0, 1000, 2)).toBe(true);
    expect(store.takeSlot("h", "t3", "B", 0, 1000, 2)).toBe(false);
    expect(store.takeSlot("other", "t4", "B", 0, 1000, 2)).toBe(true);
    expect(store.liveSlots("h", 999)).toBe(2);
    expect(store.liveSlots("h", 1000)).toBe(0); // a crashed holder's slots expire
    expect(store.takeSlot("h", "t5", "C", 1000, 1000, 2)).toBe(true);
    store.releaseSlot("h", "t5");
    expect(store.liveSlots("h", 1000)).toBe(0);
  });

  test("renewal keeps a live owner's slots and sweeps the dead ones", () => {
    const db = openPolitenessDb();
    const store = new HostStore(db);
    store.takeSlot("h", "a1", "alive", 0, 1000, 4);
    store.takeSlot("h", "d1", "dead", 0, 1000, 4);
    store.renewOwner("alive", 900, 1000);
    expect(store.liveSlots("h", 1500)).toBe(1);
    store.renewOwner("alive", 1500, 1000);
    expect(db.query("SELECT token FROM host_slot").all()).toEqual([{ token: "a1" }]);
    store.releaseOwner("alive");
    expect(store.liveSlots("h", 1500)).toBe(0);
  });
});

describe("host rows", () => {
  test("updateHost writes only real changes and stamps them", () => {
    const db = openPolitenessDb();
    const store = new HostStore(db);
    expect(store.readHost("h")).toBeNull();
    store.updateHost("h", 5, (r) => r);
    expect(store.readHost("h")).toBeNull();
    store.updateHost("h", 7, (r) => ({ ...r, cooldown_until: 100 }));
    expect(store.readHost("h")).toEqual({ ...emptyHostRow("h"), cooldown_until: 100, updated_at: 7 });
  });

  test("knownHosts lists hosts with any state, most recent first", () => {
    const store = new HostStore(openPolitenessDb());
    store.reserveRate("old.example", "metadata", 0, 100, 1, 1e9);
    store.updateHost("new.example", 5000, (r) => ({ ...r, count_429: 1 }));
    store.takeSlot("mid.example", "t", "o", 0, 2000, 1);
    expect(store.knownHosts(10)).toEqual(["new.example", "mid.example", "old.example"]);
    expect(store.knownHosts(1)).toEqual(["new.example"]);
  });
});

describe("host slot queue", () => {
  test("waiters of all processes are served in arrival order; newcomers queue behind them", () => {
    const store = new HostStore(openPolitenessDb());
    expect(store.takeSlot("h", "held", "A", 0, 10_000, 1)).toBe(true);
    store.enqueueWaiter("h", "b1", "B", 10, 2000);
    store.enqueueWaiter("h", "a2", "A", 20, 2000);
    expect(store.promoteWaiter("h", "b1", 10, 30, 10_000, 1)).toBe(false); // still held
    store.releaseSlot("h", "held");
    // A's later request cannot overtake B's earlier one, nor can a newcomer
    expect(store.promoteWaiter("h", "a2", 20, 40, 10_000, 1)).toBe(false);
    expect(store.takeSlot("h", "new", "C", 40, 10_000, 1)).toBe(false);
    expect(store.promoteWaiter("h", "b1", 10, 40, 10_000, 1)).toBe(true);
    expect(store.liveSlots("h", 40)).toBe(1);
    store.releaseSlot("h", "b1");
    expect(store.promoteWaiter("h", "a2", 20, 50, 10_000, 1)).toBe(true);
  });

  test("a waiter that stops refreshing (crashed) drops out of the line", () => {
    const store = new HostStore(openPolitenessDb());
    store.enqueueWaiter("h", "dead", "X", 0, 2000);
    store.enqueueWaiter("h", "live", "Y", 5, 2000);
    store.refreshWaiter("h", "live", 1500, 2000);
    expect(store.promoteWaiter("h", "live", 5, 1999, 10_000, 1)).toBe(false);
    expect(store.promoteWaiter("h", "live", 5, 2000, 10_000, 1)).toBe(true);
  });
});
