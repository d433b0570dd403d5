// The two wrappers around one hop, each against a scripted exchange: what the slow-down wrapper
// asks again and tells, and where the metadata wrapper stops retrying (the caller's wait, the
// retry count, a failure not worth retrying).
import { describe, expect, test } from "bun:test";
import type { Exchange, Exchanged, HopOptions } from "../../src/net/hop.ts";
import { withMetadataCacheAndRetry } from "../../src/net/metadata-request.ts";
import { fail } from "../../src/net/outcome.ts";
import { withSlowDownRetries } from "../../src/net/slow-down.ts";
import type { HttpRequest, SlowDownNotice } from "../../src/net/types.ts";

const URL_ = "https://pub.example/a.pdf";

function hop(role: HopOptions["role"], maxWaitMs = 60_000): HopOptions {
  return { role, rateRole: role, checkRobots: role !== "metadata", maxRedirects: 5, maxWaitMs };
}

/** An exchange answering the scripted results in turn; counts its calls. */
function scripted(answers: Exchanged[]): Exchange & { calls: number } {
  const ex = Object.assign(
    async () => {
      const next = answers[ex.calls++];
      if (!next) throw new Error(`exchange asked ${ex.calls} times, scripted ${answers.length}`);
      return next;
    },
    { calls: 0 },
  );
  return ex;
}

const status = (code: number, retryAfterMs?: number): Exchanged => ({
  ...fail(code === 429 ? "rate_limited" : `http_${code}`, `${URL_} answered ${code}`, URL_, { status: code }),
  retryAfterMs,
});

const ok = (): Exchanged => ({
  ok: true,
  response: {
    status: 200,
    headers: new Headers(),
    url: URL_,
    redirects: [URL_],
    body: null,
    rateWaitMs: 0,
    release() {},
  },
});

describe("slow-down wrapper (pages and files)", () => {
  test("429 and 503 are asked again; the answer counts them and each retry is told", async () => {
    const ex = scripted([status(503, 2000), status(429), ok()]);
    const told: SlowDownNotice[] = [];
    const request = withSlowDownRetries(ex, { retries: 3, now: () => 0, onSlowDown: (n) => told.push(n) });
    const r = await request({ url: URL_, role: "artifact" }, hop("artifact"));
    expect(r.ok && r.response.slowDowns).toBe(2);
    expect(told.map((n) => [n.status, n.retryAfterMs, n.retry, n.of, n.host])).toEqual([
      [503, 2000, 1, 3, "pub.example"],
      [429, undefined, 2, 3, "pub.example"],
    ]);
  });

  test("retries used up: the last 429 is the answer, without the internal retryAfterMs", async () => {
    const ex = scripted([status(429), status(429), status(429)]);
    const request = withSlowDownRetries(ex, { retries: 5, now: () => 0 });
    const req: HttpRequest = { url: URL_, role: "landing", slowDownRetries: 2 };
    const r = await request(req, hop("landing"));
    expect(ex.calls).toBe(3);
    expect(r).toMatchObject({ ok: false, status: 429, reason: "rate_limited", slowDowns: 3 });
    expect("retryAfterMs" in r).toBe(false);
  });

  test("any other failure is the answer at once", async () => {
    const ex = scripted([status(404)]);
    const r = await withSlowDownRetries(ex, { retries: 3, now: () => 0 })(
      { url: URL_, role: "artifact" },
      hop("artifact"),
    );
    expect(ex.calls).toBe(1);
    expect(r).toMatchObject({ ok: false, status: 404 });
    expect("slowDowns" in r).toBe(false);
  });
});

describe("metadata wrapper", () => {
  const options = { retries: 3, totalTimeoutMs: 60_000, now: () => 0, random: () => 0 };

  test("retryable failures are asked again up to the retry count", async () => {
    const ex = scripted([status(503), status(502), status(500), status(503)]);
    const r = await withMetadataCacheAndRetry(ex, options)(
      { url: URL_, role: "metadata" },
      hop("metadata"),
      0,
    );
    expect(ex.calls).toBe(4);
    expect(r).toMatchObject({ ok: false, status: 503 });
  });

  test("a Retry-After longer than the request's wait ends it with that answer", async () => {
    const ex = scripted([status(429, 5000)]);
    const request = withMetadataCacheAndRetry(ex, options);
    const r = await request({ url: URL_, role: "metadata" }, hop("metadata", 1000), 0);
    expect(ex.calls).toBe(1);
    expect(r).toMatchObject({ ok: false, reason: "rate_limited", status: 429 });
  });

  test("a failure not worth retrying is the answer at once; a success passes through", async () => {
    const notFound = scripted([status(404)]);
    const request = withMetadataCacheAndRetry(notFound, options);
    expect(await request({ url: URL_, role: "metadata" }, hop("metadata"), 0)).toMatchObject({ status: 404 });
    expect(notFound.calls).toBe(1);
    const fine = scripted([status(503), ok()]);
    const r = await withMetadataCacheAndRetry(fine, options)(
      { url: URL_, role: "metadata" },
      hop("metadata"),
      0,
    );
    expect(r.ok).toBe(true);
    expect(fine.calls).toBe(2);
  });
});
