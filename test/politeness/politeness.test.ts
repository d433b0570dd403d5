import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { type ConfigInput, ConfigSchema } from "../../src/config/schema.ts";
import type { Permit, Refusal } from "../../src/net/politeness-port.ts";
import { Politeness, type PolitenessOptions } from "../../src/politeness/politeness.ts";
import type { HostStateStore } from "../../src/store/host-state.ts";
import { SqliteHostStore } from "../../src/store/sqlite/host-state.ts";
import { openPolitenessDb } from "./db.ts";
import { FakeClock, settle } from "./fake-clock.ts";
import { windowShortfallMs } from "./windows.ts";

const MIN = 60_000;

function setup(input: ConfigInput = {}, o: { auto?: boolean } & Partial<PolitenessOptions> = {}) {
  const clock = new FakeClock(1_700_000_000_000, o.auto ?? true);
  const db = o.db ?? openPolitenessDb();
  const config = v.parse(ConfigSchema, input);
  const p = new Politeness({
    db,
    config,
    now: clock.now,
    sleep: clock.sleep,
    setTimer: clock.setTimeout,
    renewEveryMs: 0,
    // Exact intervals here; the headroom has its own test.
    arrivalHeadroomMs: 0,
    ...o,
  });
  return { clock, db, p, config };
}

/** A second process's gate: the same database file, config and clock as `a`. */
function sibling(a: ReturnType<typeof setup>, o: Partial<PolitenessOptions> = {}): Politeness {
  return new Politeness({
    db: a.db,
    config: a.config,
    now: a.clock.now,
    sleep: a.clock.sleep,
    setTimer: a.clock.setTimeout,
    renewEveryMs: 0,
    owner: "B",
    arrivalHeadroomMs: 0,
    ...o,
  });
}

function permit(r: Permit | Refusal): Permit {
  if (!r.ok) throw new Error(`expected a permit, got ${r.reason}`);
  return r;
}

describe("rate", () => {
  test("paces one host's requests per role; the wait is reported", async () => {
    const { p, clock } = setup();
    const t0 = clock.t;
    const a = permit(await p.acquire({ host: "pub.example", role: "metadata", maxWaitMs: 10_000 }));
    a.release();
    const b = permit(await p.acquire({ host: "pub.example", role: "metadata", maxWaitMs: 10_000 }));
    b.release();
    expect([a.waitedMs, b.waitedMs]).toEqual([0, 100]);
    // Pacing is the configured politeness, not the host holding us back.
    expect([a.heldBackMs, b.heldBackMs]).toEqual([0, 0]);
    expect(clock.t - t0).toBe(100);
    // another role has its own budget
    const c = permit(await p.acquire({ host: "pub.example", role: "artifact", maxWaitMs: 10_000 }));
    expect(c.waitedMs).toBe(0);
  });

  test("arxiv: one request every 3 s; a wait beyond maxWait is refused without spending the budget", async () => {
    const { p, clock } = setup({}, { auto: false });
    const t0 = clock.t;
    const req = { host: "arxiv.org", role: "artifact" as const, maxWaitMs: 5000 };
    const first = permit(await p.acquire(req));
    first.release();
    const second = p.acquire(req);
    await clock.advance(3000);
    permit(await second).release();
    // the next slot is at 6 s: 3 s away, more than this caller accepts
    const third = await p.acquire({ ...req, maxWaitMs: 2999 });
    expect(third).toEqual({ ok: false, reason: "rate_limited", retryAt: t0 + 6000 });
    // the refusal reserved nothing: asking again at 6 s goes at once
    await clock.advance(3000);
    expect(permit(await p.acquire(req)).waitedMs).toBe(0);
  });

  test("the budget lives in the database: a new instance (restart, other process) continues it", async () => {
    const A = setup();
    const t0 = A.clock.t;
    permit(await A.p.acquire({ host: "arxiv.org", role: "artifact", maxWaitMs: 0 })).release();
    const other = sibling(A);
    expect(await other.acquire({ host: "arxiv.org", role: "artifact", maxWaitMs: 1000 })).toMatchObject({
      ok: false,
      reason: "rate_limited",
      retryAt: t0 + 3000,
    });
  });

  test("by default each request's spacing has a little headroom over the host's interval", async () => {
    const { p, clock } = setup(
      {
        politeness: {
          hosts: {
            "fast.example": { rate: "20/s", burst: 1, max_concurrent: 10 },
            "slow.example": { rate: "5/s", burst: 1, max_concurrent: 10 },
          },
        },
      },
      { arrivalHeadroomMs: undefined },
    );
    const gaps = async (host: string) => {
      const starts: number[] = [];
      for (let i = 0; i < 4; i++) {
        permit(await p.acquire({ host, role: "artifact", maxWaitMs: MIN })).release();
        starts.push(clock.t);
      }
      return starts.slice(1).map((t, i) => t - (starts[i] as number));
    };
    // 50 ms + 2 ms (4 % of 50), 200 ms + 2 ms (the 2 ms cap)
    expect(await gaps("fast.example")).toEqual([52, 52, 52]);
    expect(await gaps("slow.example")).toEqual([202, 202, 202]);
  });

  test("on a store that answers promises, a request never leaves before its reserved start", async () => {
    // PostgreSQL's store answers promises: the gate reads the host's row ahead of the slot, and a
    // reading still fresh (no round trip) must not let the request go at the read's time.
    const clock = new FakeClock(1_700_000_000_000, true);
    const sqlite = new SqliteHostStore(openPolitenessDb());
    const store = new Proxy(sqlite, {
      get(target, key) {
        const value = Reflect.get(target, key);
        return typeof value === "function"
          ? (...args: unknown[]) => Promise.resolve(value.apply(target, args))
          : value;
      },
    }) as HostStateStore;
    const p = new Politeness({
      store,
      config: v.parse(ConfigSchema, {
        politeness: { hosts: { "fast.example": { rate: "20/s", burst: 1, max_concurrent: 10 } } },
      }),
      now: clock.now,
      sleep: clock.sleep,
      setTimer: clock.setTimeout,
      renewEveryMs: 0,
      arrivalHeadroomMs: 0,
    });
    const t0 = clock.t;
    const starts: number[] = [];
    for (let i = 0; i < 4; i++) {
      permit(await p.acquire({ host: "fast.example", role: "artifact", maxWaitMs: MIN })).release();
      starts.push(clock.t - t0);
    }
    expect(starts).toEqual([0, 50, 100, 150]);
  });

  test("a request that wakes long after its slot takes a new one instead of crowding the next", async () => {
    const clock = new FakeClock(1_700_000_000_000, true);
    let stalls = 1;
    // the first sleep overshoots by 100 ms (a stalled process); later ones are on time
    const sleep = (ms: number, s?: AbortSignal) => clock.sleep(ms + (stalls-- > 0 ? 100 : 0), s);
    const p = new Politeness({
      db: openPolitenessDb(),
      config: v.parse(ConfigSchema, {}),
      now: clock.now,
      sleep,
      setTimer: clock.setTimeout,
      renewEveryMs: 0,
      arrivalHeadroomMs: 0,
    });
    const req = { host: "arxiv.org", role: "artifact" as const, maxWaitMs: MIN };
    permit(await p.acquire(req)).release();
    const second = permit(await p.acquire(req));
    second.release();
    expect(second.waitedMs).toBe(6000); // slot at 3 s missed, next at 6 s
    expect(permit(await p.acquire(req)).waitedMs).toBe(3000); // the missed slot is not handed out
  });

  test("a machine late on every timer still makes progress (one retake per request)", async () => {
    const clock = new FakeClock(1_700_000_000_000, true);
    const p = new Politeness({
      db: openPolitenessDb(),
      config: v.parse(ConfigSchema, {}),
      now: clock.now,
      sleep: (ms, s) => clock.sleep(ms + 100, s),
      setTimer: clock.setTimeout,
      renewEveryMs: 0,
      arrivalHeadroomMs: 0,
    });
    const req = { host: "arxiv.org", role: "artifact" as const, maxWaitMs: MIN };
    permit(await p.acquire(req)).release();
    expect(permit(await p.acquire(req)).waitedMs).toBe(6100);
  });

  test("a request that went out late pushes the ones reserved behind it back: no window holds one too many", async () => {
    // 20/s, burst 1: slots every 50 ms. The first request that sleeps wakes 15 ms late (within the
    // lateness a reservation keeps its slot), every later one wakes on time. Without pacing the actual
    // starts, the next one would follow it after 35 ms and a window of t would hold 1 + (t + 15) / 50.
    const clock = new FakeClock(1_700_000_000_000, false);
    let late = 1;
    const sleep = (ms: number, s?: AbortSignal) => clock.sleep(ms + (ms > 0 && late-- > 0 ? 15 : 0), s);
    const p = new Politeness({
      db: openPolitenessDb(),
      config: v.parse(ConfigSchema, {
        politeness: { hosts: { "fast.example": { rate: "20/s", burst: 1, max_concurrent: 10 } } },
      }),
      now: clock.now,
      sleep,
      setTimer: clock.setTimeout,
      renewEveryMs: 0,
      arrivalHeadroomMs: 0,
    });
    const t0 = clock.t;
    const starts: number[] = [];
    const pending = Array.from({ length: 6 }, () =>
      p.acquire({ host: "fast.example", role: "artifact", maxWaitMs: MIN }).then((r) => {
        starts.push(clock.t - t0);
        permit(r).release();
      }),
    );
    for (let i = 0; i < 40; i++) await clock.advance(10);
    await Promise.all(pending);
    expect(starts.length).toBe(6);
    // reserved 0, 50, 100, 150, 200, 250; the second left at 65, so the rest keep 50 ms (less the 5 ms
    // tolerance of the pacing) from it instead of their reserved times
    expect(starts).toEqual([0, 65, 110, 160, 210, 260]);
    expect(windowShortfallMs(starts, 50, 1)).toBeLessThanOrEqual(5);
  });

  test("on a cold host the next request waits for the first one's answer, then keeps the interval from it", async () => {
    // The first request opens a connection and reaches the host late; a second one on another
    // connection could arrive right behind it. Its answer bounds when it arrived.
    const { p, clock } = setup(
      { politeness: { hosts: { "fast.example": { rate: "20/s", burst: 1, max_concurrent: 3 } } } },
      { auto: false },
    );
    const t0 = clock.t;
    const req = { host: "fast.example", role: "artifact" as const, maxWaitMs: MIN };
    const first = permit(await p.acquire(req));
    let secondAt = -1;
    let thirdAt = -1;
    const second = p.acquire(req).then((r) => {
      secondAt = clock.t - t0;
      return permit(r);
    });
    await clock.advance(60);
    expect(secondAt).toBe(-1); // its slot (50) has passed: it waits for the answer
    await clock.advance(10);
    p.observe("fast.example", { status: 200, role: "artifact" }); // the answer begins at 70
    await clock.advance(100);
    expect(secondAt).toBe(115); // 70 + 50, less the 5 ms tolerance
    first.release();
    (await second).release();
    // the host is warm now: the next one waits only for its own slot
    const third = p.acquire(req).then((r) => {
      thirdAt = clock.t - t0;
      permit(r).release();
    });
    await clock.advance(100);
    await third;
    expect(thirdAt).toBe(170);
  });

  test("a cold host's first request ending without an answer frees the ones behind it", async () => {
    const { p, clock } = setup(
      { politeness: { hosts: { "fast.example": { rate: "20/s", burst: 1, max_concurrent: 3 } } } },
      { auto: false },
    );
    const t0 = clock.t;
    const req = { host: "fast.example", role: "artifact" as const, maxWaitMs: MIN };
    const first = permit(await p.acquire(req));
    let secondAt = -1;
    const second = p.acquire(req).then((r) => {
      secondAt = clock.t - t0;
      permit(r).release();
    });
    await clock.advance(80);
    expect(secondAt).toBe(-1);
    first.release(); // failed or cancelled: no answer, and no time it is known to have arrived by
    await clock.advance(0);
    await second;
    expect(secondAt).toBe(80);
    // without an answer for a whole second, the followers stop waiting
    const ac = new AbortController();
    await clock.advance(10_000);
    const third = permit(await p.acquire(req)); // cold again after 5 s idle
    const fourth = p.acquire({ ...req, signal: ac.signal });
    await clock.advance(999);
    ac.abort();
    expect(await fourth).toMatchObject({ ok: false, reason: "cancelled" });
    const fifth = p.acquire(req);
    await clock.advance(1);
    expect((await fifth).ok).toBe(true);
    expect(clock.t - t0).toBe(80 + 10_000 + 1000);
    third.release();
  });

  test("on time, pacing the actual starts adds no wait", async () => {
    const { p, clock } = setup({
      politeness: { hosts: { "fast.example": { rate: "20/s", burst: 2, max_concurrent: 10 } } },
    });
    const t0 = clock.t;
    const waited: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = permit(await p.acquire({ host: "fast.example", role: "artifact", maxWaitMs: MIN }));
      waited.push(r.waitedMs);
      r.release();
    }
    // burst 2: two at once, then one every 50 ms, each after a single sleep for its reservation
    expect(waited).toEqual([0, 0, 50, 50, 50]);
    expect(clock.sleeps).toEqual([50, 50, 50]);
    expect(clock.t - t0).toBe(150);
  });

  test("fractional config rates work end to end: 1 per 3 s", async () => {
    const { p } = setup({ politeness: { hosts: { "slow.example": { rate: "1 per 3 s" } } } });
    permit(await p.acquire({ host: "slow.example", role: "landing", maxWaitMs: 10_000 })).release();
    expect(
      permit(await p.acquire({ host: "slow.example", role: "landing", maxWaitMs: 10_000 })).waitedMs,
    ).toBe(3000);
  });
});

describe("shared state seen by other processes", () => {
  test("another process's cool-down is seen within sharedStateFreshMs (50 ms by default); with 0, at once", async () => {
    const cfg = { politeness: { hosts: { "pub.example": { rate: "1000/s", max_concurrent: 10 } } } };
    for (const fresh of [undefined, 0]) {
      const shared = openPolitenessDb();
      const A = setup(cfg, { db: shared, owner: "A", auto: false, sharedStateFreshMs: fresh });
      const B = sibling(A);
      const t0 = A.clock.t;
      const req = { host: "pub.example", role: "metadata" as const, maxWaitMs: 0 };
      permit(await A.p.acquire(req)).release(); // A reads the host's row: healthy
      B.observe("pub.example", { status: 429, retryAfterMs: 60_000 });
      await A.clock.advance(10);
      const soon = await A.p.acquire(req);
      if (fresh === 0) {
        expect(soon).toEqual({ ok: false, reason: "rate_limited", retryAt: t0 + 60_000 });
        continue;
      }
      permit(soon).release(); // A still trusts its reading from 10 ms ago
      await A.clock.advance(40);
      expect(await A.p.acquire(req)).toEqual({ ok: false, reason: "rate_limited", retryAt: t0 + 60_000 });
    }
  });

  test("this process's own 429 is seen at once", async () => {
    const { p, clock } = setup(
      { politeness: { hosts: { "pub.example": { rate: "1000/s" } } } },
      { auto: false },
    );
    const req = { host: "pub.example", role: "metadata" as const, maxWaitMs: 0 };
    permit(await p.acquire(req)).release();
    p.observe("pub.example", { status: 429, retryAfterMs: 60_000 });
    await clock.advance(1);
    expect(await p.acquire(req)).toMatchObject({ ok: false, reason: "rate_limited" });
  });
});

describe("crawl-delay", () => {
  test("landing and artifact requests share one minimum interval; metadata is not subject to robots", async () => {
    const { p } = setup();
    p.setMinInterval("pub.example", 5000);
    permit(await p.acquire({ host: "pub.example", role: "landing", maxWaitMs: MIN })).release();
    const art = permit(await p.acquire({ host: "pub.example", role: "artifact", maxWaitMs: MIN }));
    art.release();
    expect(art.waitedMs).toBe(5000);
    const meta = permit(await p.acquire({ host: "pub.example", role: "metadata", maxWaitMs: MIN }));
    expect(meta.waitedMs).toBe(0);
    p.setMinInterval("pub.example", 0);
    permit(await p.acquire({ host: "pub.example", role: "landing", maxWaitMs: MIN })).release();
    expect(permit(await p.acquire({ host: "pub.example", role: "landing", maxWaitMs: MIN })).waitedMs).toBe(
      200,
    );
  });

  test("a crawl-delay shorter than the host's rate does not speed it up", async () => {
    const { p } = setup();
    p.setMinInterval("arxiv.org", 1000);
    permit(await p.acquire({ host: "arxiv.org", role: "artifact", maxWaitMs: MIN })).release();
    expect(permit(await p.acquire({ host: "arxiv.org", role: "landing", maxWaitMs: MIN })).waitedMs).toBe(
      3000,
    );
  });
});

describe("cooldowns", () => {
  test("429 with Retry-After (seconds): refused with retryAt beyond maxWait, waited out within it", async () => {
    const { p, clock } = setup();
    const t0 = clock.t;
    p.observe("pub.example", { status: 429, retryAfterMs: 120_000 });
    expect(await p.acquire({ host: "pub.example", role: "artifact", maxWaitMs: 10_000 })).toEqual({
      ok: false,
      reason: "rate_limited",
      retryAt: t0 + 120_000,
    });
    const ok = permit(await p.acquire({ host: "pub.example", role: "artifact", maxWaitMs: 5 * MIN }));
    expect(ok.waitedMs).toBe(120_000);
    expect(ok.heldBackMs).toBe(120_000); // all of it in the cool-down the host imposed
    expect(p.hostsSnapshot()[0]?.count429).toBe(1);
  });

  test("503 with Retry-After as an HTTP date (converted to ms by the client)", async () => {
    const { p, clock } = setup();
    const date = new Date(clock.t + 90_000).toUTCString();
    p.observe("pub.example", { status: 503, retryAfterMs: Date.parse(date) - clock.t });
    const r = await p.acquire({ host: "pub.example", role: "artifact", maxWaitMs: 1000 });
    expect(r).toEqual({ ok: false, reason: "rate_limited", retryAt: Date.parse(date) });
  });

  test("Retry-After is capped by politeness.retry_after_cap_s", async () => {
    const { p, clock } = setup({ politeness: { retry_after_cap_s: 60 } });
    p.observe("pub.example", { status: 429, retryAfterMs: 3_600_000 });
    expect(await p.acquire({ host: "pub.example", role: "artifact", maxWaitMs: 0 })).toMatchObject({
      retryAt: clock.t + 60_000,
    });
  });

  test("429 without Retry-After: 1 s, then 2 s; a success resets the backoff", async () => {
    const { p, clock } = setup();
    const host = "pub.example";
    const req = { host, role: "metadata" as const, maxWaitMs: MIN };
    p.observe(host, { status: 429 });
    expect(permit(await p.acquire(req)).waitedMs).toBe(1000);
    p.observe(host, { status: 429 });
    expect(permit(await p.acquire(req)).waitedMs).toBe(2000);
    p.observe(host, { status: 200 });
    p.observe(host, { status: 429 });
    expect(permit(await p.acquire(req)).waitedMs).toBe(1000);
    expect(p.hostsSnapshot().find((h) => h.host === host)?.cooldownUntil).toBe(clock.t);
  });

  test("a cool-down that starts while a request sleeps for its rate slot is honoured", async () => {
    const { p, clock } = setup({}, { auto: false });
    const t0 = clock.t;
    const host = "arxiv.org";
    permit(await p.acquire({ host, role: "artifact", maxWaitMs: MIN })).release();
    let at = 0;
    const waiting = p.acquire({ host, role: "artifact", maxWaitMs: MIN }).then((r) => {
      at = clock.t;
      return r;
    });
    await clock.advance(1000);
    p.observe(host, { status: 429, retryAfterMs: 10_000 }); // cool-down until t0 + 11 s
    await clock.advance(20_000);
    const late = permit(await waiting);
    expect(at - t0).toBe(11_000);
    // 3 s of arXiv pacing asked for, 1 s of it slept before the 429: the remaining 8 s are the cool-down.
    expect(late.heldBackMs).toBe(8_000);
    expect(late.waitedMs).toBe(11_000);
  });
});

describe("circuit breaker", () => {
  test("full cycle through the gate: open after 5 failures, one trial after the reset, closed on success", async () => {
    const { p, clock } = setup({ politeness: { breaker_failures: 5, breaker_reset_s: 60 } });
    const host = "down.example";
    const req = { host, role: "metadata" as const, maxWaitMs: MIN };
    // 404 and 403 are the host working: they never open the breaker
    for (let i = 0; i < 10; i++) p.observe(host, { status: i % 2 ? 404 : 403 });
    permit(await p.acquire(req)).release();
    const fails = [
      { status: 500 },
      { status: 502 },
      { failure: "timeout" },
      { failure: "conn_error" },
    ] as const;
    for (const o of fails) p.observe(host, o);
    permit(await p.acquire(req)).release(); // 4 failures: still closed
    const openedAt = clock.t;
    p.observe(host, { status: 503 });
    expect(await p.acquire({ ...req, maxWaitMs: 0 })).toEqual({
      ok: false,
      reason: "breaker_open",
      retryAt: openedAt + 60_000,
    });
    expect(p.hostsSnapshot()[0]?.breaker).toMatchObject({ state: "open", reason: "http_503" });

    clock.t = openedAt + 60_000;
    const trial = permit(await p.acquire(req));
    expect(p.hostsSnapshot()[0]?.breaker.state).toBe("half_open");
    // exactly one trial: a second request meanwhile is refused
    expect(await p.acquire(req)).toMatchObject({ ok: false, reason: "breaker_open" });
    p.observe(host, { status: 200 });
    trial.release();
    // Closed again; why it last opened stays readable.
    expect(p.hostsSnapshot()[0]?.breaker).toEqual({
      state: "closed",
      failures: 0,
      openUntil: 0,
      reason: "http_503",
    });
    permit(await p.acquire(req)).release();
  });

  test("a success after a failure resets the count, even right after a healthy acquire", async () => {
    const { p } = setup({ politeness: { breaker_failures: 2 } });
    const host = "flaky.example";
    const snap = () => p.hostsSnapshot().find((h) => h.host === host)?.breaker;
    for (let i = 0; i < 3; i++) {
      const a = permit(await p.acquire({ host, role: "metadata", maxWaitMs: MIN })); // host healthy here
      p.observe(host, { status: 500 });
      expect(snap()?.failures).toBe(1);
      p.observe(host, { status: 200 });
      a.release();
      expect(snap()).toMatchObject({ state: "closed", failures: 0 });
    }
    // without a success in between, two failures open it
    p.observe(host, { failure: "timeout" });
    p.observe(host, { failure: "timeout" });
    expect(snap()?.state).toBe("open");
  });

  test("a failed trial opens the breaker again", async () => {
    const { p, clock } = setup({ politeness: { breaker_failures: 2, breaker_reset_s: 10 } });
    const host = "down.example";
    p.observe(host, { status: 500 });
    p.observe(host, { status: 500 });
    clock.t += 10_000;
    const trial = permit(await p.acquire({ host, role: "landing", maxWaitMs: 0 }));
    p.observe(host, { failure: "tls_error" });
    trial.release();
    expect(await p.acquire({ host, role: "landing", maxWaitMs: 0 })).toEqual({
      ok: false,
      reason: "breaker_open",
      retryAt: clock.t + 10_000,
    });
  });

  test("a trial released without an answer lets the next request try", async () => {
    const { p, clock } = setup({ politeness: { breaker_failures: 1, breaker_reset_s: 10 } });
    const host = "down.example";
    p.observe(host, { status: 500 });
    clock.t += 10_000;
    permit(await p.acquire({ host, role: "landing", maxWaitMs: 0 })).release();
    const next = permit(await p.acquire({ host, role: "landing", maxWaitMs: 1000 }));
    expect(p.hostsSnapshot()[0]?.breaker.state).toBe("half_open");
    next.release();
  });

  test("a trial granted to a request that then could not go out is handed back", async () => {
    const { p, clock } = setup({ politeness: { breaker_failures: 1, breaker_reset_s: 1 } });
    const host = "arxiv.org";
    permit(await p.acquire({ host, role: "artifact", maxWaitMs: 0 })).release(); // budget: next in 3 s
    p.observe(host, { status: 500 });
    clock.t += 1000;
    expect(await p.acquire({ host, role: "artifact", maxWaitMs: 0 })).toMatchObject({
      reason: "rate_limited",
    });
    clock.t += 2000;
    permit(await p.acquire({ host, role: "artifact", maxWaitMs: 0 })).release(); // the trial is free again
  });
});

describe("concurrency", () => {
  test("a host's connection limit holds; the next request goes when a slot is released", async () => {
    const { p, clock } = setup(
      { politeness: { hosts: { "one.example": { max_concurrent: 1, rate: "1000/s" } } } },
      { auto: false },
    );
    const host = "one.example";
    const first = permit(await p.acquire({ host, role: "artifact", maxWaitMs: MIN }));
    let second: Permit | Refusal | undefined;
    const pending = p.acquire({ host, role: "artifact", maxWaitMs: MIN }).then((r) => {
      second = r;
    });
    await clock.advance(5000);
    expect(second).toBeUndefined();
    expect(p.hostsSnapshot()[0]).toMatchObject({ inFlight: 1, inFlightAll: 1, waiting: 1 });
    first.release();
    first.release(); // idempotent
    await clock.advance(0);
    await pending;
    expect(second?.ok).toBe(true);
    expect(p.hostsSnapshot()[0]).toMatchObject({ inFlight: 1, inFlightAll: 1, waiting: 0 });
  });

  test("waiting for a slot counts against maxWait: refused, nothing held afterwards", async () => {
    const { p, clock } = setup(
      { politeness: { hosts: { "one.example": { max_concurrent: 1 } } } },
      { auto: false },
    );
    const host = "one.example";
    const first = permit(await p.acquire({ host, role: "artifact", maxWaitMs: MIN }));
    const pending = p.acquire({ host, role: "artifact", maxWaitMs: 2000 });
    await clock.advance(2000);
    expect(await pending).toMatchObject({ ok: false, reason: "rate_limited" });
    first.release();
    await clock.advance(250); // the released slot lingers for reuse, then goes back
    expect(p.hostsSnapshot()[0]).toMatchObject({ inFlight: 0, inFlightAll: 0, waiting: 0 });
  });

  test("an unbounded maxWait waits for the slot instead of giving up at once", async () => {
    const { p, clock } = setup(
      { politeness: { hosts: { "one.example": { max_concurrent: 1 } } } },
      { auto: false },
    );
    const host = "one.example";
    const first = permit(await p.acquire({ host, role: "artifact", maxWaitMs: MIN }));
    let second: Permit | Refusal | undefined;
    const pending = p.acquire({ host, role: "artifact", maxWaitMs: Number.POSITIVE_INFINITY }).then((r) => {
      second = r;
    });
    await clock.advance(3_600_000);
    expect(second).toBeUndefined();
    first.release();
    await clock.advance(1000);
    await pending;
    expect(second?.ok).toBe(true);
  });

  test("with real timers too: an unbounded wait is not cut short by timer overflow", async () => {
    const config = v.parse(ConfigSchema, {
      politeness: { hosts: { "one.example": { max_concurrent: 1, rate: "1000/s" } } },
    });
    const p = new Politeness({ db: openPolitenessDb(), config, renewEveryMs: 0, slotLingerMs: 0 });
    const req = { host: "one.example", role: "artifact" as const, maxWaitMs: Number.POSITIVE_INFINITY };
    const first = permit(await p.acquire(req));
    let second: Permit | Refusal | undefined;
    const pending = p.acquire(req).then((r) => {
      second = r;
    });
    await Bun.sleep(50);
    expect(second).toBeUndefined();
    first.release();
    await pending;
    expect(second?.ok).toBe(true);
    p.close();
  });

  test("cancelling a waiter answers `cancelled` and leaks no slot", async () => {
    const { p, clock } = setup(
      { politeness: { hosts: { "one.example": { max_concurrent: 1 } } } },
      { auto: false },
    );
    const host = "one.example";
    const first = permit(await p.acquire({ host, role: "artifact", maxWaitMs: MIN }));
    const ctl = new AbortController();
    const pending = p.acquire({ host, role: "artifact", maxWaitMs: MIN, signal: ctl.signal });
    await settle();
    ctl.abort();
    expect(await pending).toMatchObject({ ok: false, reason: "cancelled" });
    first.release();
    await clock.advance(250);
    expect(p.hostsSnapshot()[0]).toMatchObject({ inFlight: 0, inFlightAll: 0, waiting: 0 });
    expect(clock.pending).toBe(0);
  });

  test("a released host slot lingers for this process's next request, unless another process waits", async () => {
    const shared = openPolitenessDb();
    const cfg = { politeness: { hosts: { "one.example": { max_concurrent: 1, rate: "1000/s" } } } };
    const A = setup(cfg, { auto: false, db: shared, owner: "A" });
    const B = sibling(A);
    const req = { host: "one.example", role: "artifact" as const, maxWaitMs: MIN };
    const slots = () => shared.query("SELECT owner, waiting FROM host_slot ORDER BY owner").all();
    permit(await A.p.acquire(req)).release();
    expect(slots()).toEqual([{ owner: "A", waiting: 0 }]); // parked, not written back
    await A.clock.advance(10);
    const again = permit(await A.p.acquire(req)); // reused without waiting
    expect(again.waitedMs).toBe(0);
    let got: Permit | Refusal | undefined;
    const pending = B.acquire(req).then((r) => {
      got = r;
    });
    // A looked for waiters at 10 ms and trusts that look for 50 ms (sharedStateFreshMs)
    await A.clock.advance(10);
    expect(slots()).toEqual([
      { owner: "A", waiting: 0 },
      { owner: "B", waiting: 1 },
    ]);
    await A.clock.advance(40);
    again.release(); // B waits: the slot goes back at once instead of lingering
    expect(slots()).toEqual([{ owner: "B", waiting: 1 }]);
    await A.clock.advance(50);
    await pending;
    expect(got?.ok).toBe(true);
    expect(slots()).toEqual([{ owner: "B", waiting: 0 }]);
    // and A, asking now, queues behind B instead of taking B's slot
    const late = A.p.acquire({ ...req, maxWaitMs: 100 });
    await A.clock.advance(100);
    expect(await late).toMatchObject({ ok: false, reason: "rate_limited" });
  });

  test("cancelling during the rate sleep gives the slots back", async () => {
    const { p, clock } = setup({}, { auto: false });
    permit(await p.acquire({ host: "arxiv.org", role: "artifact", maxWaitMs: MIN })).release();
    const ctl = new AbortController();
    const pending = p.acquire({ host: "arxiv.org", role: "artifact", maxWaitMs: MIN, signal: ctl.signal });
    await clock.advance(1000);
    ctl.abort();
    expect(await pending).toMatchObject({ ok: false, reason: "cancelled" });
    expect(p.hostsSnapshot()[0]).toMatchObject({ inFlight: 0, inFlightAll: 0 });
  });

  test("per-resolver limit: resolvers.<name>.max_concurrent bounds requests across hosts", async () => {
    const { p, clock } = setup({ resolvers: { crossref: { max_concurrent: 1 } } }, { auto: false });
    const a = permit(
      await p.acquire({ host: "a.example", role: "metadata", resolver: "crossref", maxWaitMs: MIN }),
    );
    let done = false;
    const b = p
      .acquire({ host: "b.example", role: "metadata", resolver: "crossref", maxWaitMs: MIN })
      .then((r) => {
        done = true;
        return r;
      });
    const other = permit(
      await p.acquire({ host: "b.example", role: "landing", resolver: "landing", maxWaitMs: MIN }),
    );
    await clock.advance(1000);
    expect(done).toBe(false);
    a.release();
    await clock.advance(0);
    permit(await b).release();
    other.release();
  });

  test("per-resolver limit: file downloads are bounded by their hosts, not by the resolver that found them", async () => {
    const { p } = setup({ resolvers: { direct: { max_concurrent: 1 } } }, { auto: false });
    const a = permit(
      await p.acquire({ host: "a.example", role: "artifact", resolver: "direct", maxWaitMs: MIN }),
    );
    const b = permit(
      await p.acquire({ host: "b.example", role: "artifact", resolver: "direct", maxWaitMs: MIN }),
    );
    a.release();
    b.release();
  });

  test("two instances on one database share the host's slots (cross-process limit)", async () => {
    const shared = openPolitenessDb();
    const cfg = { politeness: { hosts: { "one.example": { max_concurrent: 1, rate: "1000/s" } } } };
    const A = setup(cfg, { auto: false, db: shared, owner: "A" });
    const B = sibling(A);
    const held = permit(await A.p.acquire({ host: "one.example", role: "artifact", maxWaitMs: MIN }));
    let got: Permit | Refusal | undefined;
    const pending = B.acquire({ host: "one.example", role: "artifact", maxWaitMs: MIN }).then((r) => {
      got = r;
    });
    await A.clock.advance(1000);
    expect(got).toBeUndefined();
    held.release();
    await A.clock.advance(100);
    await pending;
    expect(got?.ok).toBe(true);
  });

  test("a crashed holder's slot expires after the slot TTL unless renewed", async () => {
    const shared = openPolitenessDb();
    const cfg = { politeness: { hosts: { "one.example": { max_concurrent: 1, rate: "1000/s" } } } };
    const A = setup(cfg, { auto: false, db: shared, owner: "A", slotTtlMs: 10_000 });
    const B = sibling(A, { slotTtlMs: 10_000 });
    const t0 = A.clock.t;
    permit(await A.p.acquire({ host: "one.example", role: "artifact", maxWaitMs: MIN })); // never released
    await A.clock.advance(8000);
    A.p.renew(); // alive: good until 18 s
    const r = B.acquire({ host: "one.example", role: "artifact", maxWaitMs: 5000 });
    await A.clock.advance(5000);
    expect(await r).toMatchObject({ ok: false, reason: "rate_limited" });
    // A "crashes": no more renewals; B gets the slot once it expires
    let at = 0;
    const later = B.acquire({ host: "one.example", role: "artifact", maxWaitMs: MIN }).then((x) => {
      at = A.clock.t;
      return x;
    });
    await A.clock.advance(10_000);
    permit(await later);
    expect(at - t0).toBeGreaterThanOrEqual(18_000); // the renewed expiry
    expect(at - t0).toBeLessThan(18_100); // within one poll of it
  });

  test("an error inside acquire gives every slot back", async () => {
    const { p, db } = setup();
    db.run("CREATE TRIGGER broken BEFORE INSERT ON host_rate BEGIN SELECT RAISE(ABORT, 'disk trouble'); END");
    await expect(p.acquire({ host: "pub.example", role: "artifact", maxWaitMs: MIN })).rejects.toThrow(
      "disk trouble",
    );
    db.run("DROP TRIGGER broken");
    expect(p.hostsSnapshot().find((h) => h.host === "pub.example")).toBeUndefined();
    expect(db.query("SELECT count(*) AS n FROM host_slot").get()).toEqual({ n: 0 });
  });

  test("close() gives back the slots this process still holds", async () => {
    const { p, db } = setup();
    permit(await p.acquire({ host: "pub.example", role: "artifact", maxWaitMs: MIN }));
    p.close();
    expect(db.query("SELECT count(*) AS n FROM host_slot").get()).toEqual({ n: 0 });
  });
});

describe("announced limits", () => {
  test("Crossref's headers tighten its limits; more generous ones never loosen the configured ones", async () => {
    const { p } = setup({ contact_email: "lib@example.org" });
    const host = "api.crossref.org";
    const snap = () => p.hostsSnapshot().find((h) => h.host === host);
    p.observe(host, {
      status: 200,
      headers: new Headers({
        "x-rate-limit-limit": "5",
        "x-rate-limit-interval": "1s",
        "x-concurrency-limit": "1",
      }),
    });
    expect(snap()?.limits).toMatchObject({ maxConcurrent: 1, intervalMs: { metadata: 200 } });
    permit(await p.acquire({ host, role: "metadata", maxWaitMs: MIN })).release();
    expect(permit(await p.acquire({ host, role: "metadata", maxWaitMs: MIN })).waitedMs).toBe(200);
    p.observe(host, {
      status: 200,
      headers: new Headers({
        "x-rate-limit-limit": "50",
        "x-rate-limit-interval": "1s",
        "x-concurrency-limit": "10",
      }),
    });
    expect(snap()?.limits).toMatchObject({ maxConcurrent: 3, intervalMs: { metadata: 100 } });
  });
});

describe("hostsSnapshot", () => {
  test("shows limits, next allowed time, cooldown, breaker and 429s per host", async () => {
    const { p, clock } = setup();
    permit(await p.acquire({ host: "arxiv.org", role: "artifact", maxWaitMs: 0 }));
    p.observe("arxiv.org", { status: 429, retryAfterMs: 30_000 });
    const [s] = p.hostsSnapshot();
    expect(s).toEqual({
      host: "arxiv.org",
      inFlight: 1,
      inFlightAll: 1,
      waiting: 0,
      limits: {
        maxConcurrent: 1,
        burst: 1,
        rates: { metadata: "0.333/s", landing: "0.333/s", artifact: "0.333/s" },
        intervalMs: { metadata: 3000, landing: 3000, artifact: 3000 },
        crawlDelayMs: 0,
        source: "built-in",
      },
      nextAllowedAt: { metadata: clock.t, landing: clock.t, artifact: clock.t + 3000 },
      cooldownUntil: clock.t + 30_000,
      breaker: { state: "closed", failures: 0, openUntil: 0, reason: null },
      count429: 1,
    });
  });
});
