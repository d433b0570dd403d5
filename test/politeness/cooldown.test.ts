import { describe, expect, test } from "bun:test";
import { type CooldownSettings, cooldownAfter, NO_COOLDOWN } from "../../src/politeness/cooldown.ts";

const cfg: CooldownSettings = { initialBackoffMs: 1000, capMs: 900_000 };
const now = Date.parse("2026-11-26T12:00:00Z");

/** Retry-After as the client hands it over: milliseconds from now, from either header form. */
function retryAfterMs(value: string, at: number): number {
  return /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - at;
}

describe("cooldowns", () => {
  test("429 with Retry-After in seconds cools the host down until then", () => {
    const s = cooldownAfter(NO_COOLDOWN, { status: 429, retryAfterMs: retryAfterMs("120", now) }, now, cfg);
    expect(s.until).toBe(now + 120_000);
  });

  test("503 with Retry-After as an HTTP date cools the host down until that date", () => {
    const date = "Thu, 26 Nov 2026 12:01:30 GMT";
    const s = cooldownAfter(NO_COOLDOWN, { status: 503, retryAfterMs: retryAfterMs(date, now) }, now, cfg);
    expect(s.until).toBe(Date.parse(date));
    expect(s.until - now).toBe(90_000);
  });

  test("Retry-After is capped, and a date in the past means no extra wait", () => {
    expect(cooldownAfter(NO_COOLDOWN, { status: 429, retryAfterMs: 86_400_000 }, now, cfg).until).toBe(
      now + 900_000,
    );
    expect(cooldownAfter(NO_COOLDOWN, { status: 429, retryAfterMs: -5000 }, now, cfg).until).toBe(now);
  });

  test("an error answer never brings a cool-down forward", () => {
    const long = cooldownAfter(NO_COOLDOWN, { status: 429, retryAfterMs: 600_000 }, now, cfg);
    const short = cooldownAfter(long, { status: 429, retryAfterMs: 1000 }, now + 10, cfg);
    expect(short.until).toBe(now + 600_000);
    const noHeader = cooldownAfter(long, { status: 503 }, now + 10, cfg);
    expect(noHeader.until).toBe(now + 600_000);
  });

  test("without Retry-After the host backs off exponentially, capped", () => {
    let s = NO_COOLDOWN;
    let t = now;
    const waits: number[] = [];
    for (let i = 0; i < 13; i++) {
      s = cooldownAfter(s, { status: 429 }, t, cfg);
      waits.push(s.until - t);
      t = s.until; // the next 429 comes after the cool-down
    }
    expect(waits).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 900_000, 900_000, 900_000,
    ]);
  });

  test("429s of requests already in flight do not escalate the backoff again", () => {
    let s = cooldownAfter(NO_COOLDOWN, { status: 429 }, now, cfg);
    for (let i = 1; i <= 3; i++) s = cooldownAfter(s, { status: 429 }, now + i, cfg);
    expect(s).toEqual({ until: now + 1000, backoffMs: 1000 });
  });

  test("a normal answer resets the backoff but leaves a running cool-down alone", () => {
    const s = cooldownAfter(
      cooldownAfter(NO_COOLDOWN, { status: 429 }, now, cfg),
      { status: 429 },
      now + 1000,
      cfg,
    );
    expect(s.backoffMs).toBe(2000);
    const ok = cooldownAfter(s, { status: 200 }, now + 1001, cfg);
    expect(ok).toEqual({ until: s.until, backoffMs: 0 });
    const after = cooldownAfter(ok, { status: 429 }, s.until + 1, cfg);
    expect(after.until - (s.until + 1)).toBe(1000);
  });

  test("other failures (500, timeouts) do not cool the host down (that is the breaker's job)", () => {
    expect(cooldownAfter(NO_COOLDOWN, { status: 500 }, now, cfg)).toBe(NO_COOLDOWN);
    expect(cooldownAfter(NO_COOLDOWN, { failure: "timeout" }, now, cfg)).toBe(NO_COOLDOWN);
  });

  test("the first backoff follows the host (Wayback: a minute)", () => {
    const s = cooldownAfter(NO_COOLDOWN, { status: 429 }, now, { initialBackoffMs: 60_000, capMs: 900_000 });
    expect(s.until).toBe(now + 60_000);
  });
});
