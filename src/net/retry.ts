// Pure timing rules of the client: Retry-After parsing (delta-seconds or HTTP-date, capped) and the
// exponential full-jitter backoff between metadata retries.

/**
 * Milliseconds to wait per a Retry-After header at time `now`, capped at `capMs`; undefined when
 * absent or unparseable. Zero, or a date that is not in the future, counts as absent: a host that
 * says "now" is treated like one that said nothing, so the host backoff applies instead of none.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number,
  capMs: number,
): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (v === "") return undefined;
  let ms: number;
  if (/^\d+$/.test(v)) {
    ms = Number(v) * 1000;
  } else {
    // IMF-fixdate, and the obsolete RFC 850 / asctime forms, which Date.parse understands.
    if (!/[a-z]/i.test(v)) return undefined;
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return ms > 0 ? Math.min(ms, capMs) : undefined;
}

/** Full jitter: uniform in [0, min(cap, base × 2^attempt)) (attempt 0 is the first retry). */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}
