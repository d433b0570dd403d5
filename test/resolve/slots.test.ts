import { expect, test } from "bun:test";
import { ResolverSlots } from "../../src/resolve/slots.ts";

test("a waiter aborted while queued does not swallow the wake-up meant for the next waiter", async () => {
  const slots = new ResolverSlots(() => 1);
  const first = await slots.acquire("crossref");
  const gone = new AbortController();
  const aborted = slots.acquire("crossref", gone.signal).then(
    () => "acquired",
    () => "aborted",
  );
  let woken = false;
  const next = slots.acquire("crossref").then((release) => {
    woken = true;
    return release;
  });
  gone.abort();
  expect(await aborted).toBe("aborted");
  first();
  const release = await next;
  expect(woken).toBe(true);
  expect(slots.inFlight("crossref")).toBe(1);
  release();
  expect(slots.inFlight("crossref")).toBe(0);
});
