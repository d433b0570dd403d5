// Retrying a write whose connection failed. A COMMIT that got no answer may or may not have taken
// effect, so a retry of a fenced finish (ack, fail, release) that now finds its token gone asks the
// database whether it was its own earlier attempt that finished the job (`confirm`): then the
// repeat reports the first one's success instead of a lost lease.

export interface RetryPolicy {
  /** Tries after the first. */
  retries: number;
  /** Delay before the first retry, doubled each time up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 8, baseDelayMs: 100, maxDelayMs: 5_000 };

// SQLSTATE classes and codes after which the statement certainly or possibly did not apply, and a
// new try on a healthy connection may succeed.
const RETRY_SQLSTATE = /^(08|40001|40P01|57P0[123])/;
// Bun's client answers a server that is down (restarting, failing over) with
// ERR_POSTGRES_CONNECTION_REFUSED or ERR_POSTGRES_CONNECTION_FAILED ("Failed to connect").
const RETRY_CODE =
  /^(ERR_POSTGRES_CONNECTION_(CLOSED|TIMEOUT|REFUSED|FAILED)|ERR_POSTGRES_IDLE_TIMEOUT|ERR_POSTGRES_LIFETIME_TIMEOUT|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ConnectionRefused|ConnectionClosed)$/;

/** Whether an error means "the connection or the server went away", or a retryable conflict. */
export function isRetryable(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; errno?: unknown };
  if (typeof e.errno === "string" && RETRY_SQLSTATE.test(e.errno)) return true;
  return typeof e.code === "string" && RETRY_CODE.test(e.code);
}

export interface RetryDeps {
  sleep?: (ms: number) => Promise<void>;
  /** Told once per failed try that will be retried. */
  onRetry?: (error: unknown, attempt: number) => void;
}

/**
 * Run `attempt`; on a retryable error wait and run it again. When a retry answers `isLost(result)`
 * (the token is gone), `confirm()` decides: the earlier try may have committed.
 */
export async function withRetry<R>(
  attempt: () => Promise<R>,
  policy: RetryPolicy,
  deps: RetryDeps = {},
  confirm?: { isLost: (r: R) => boolean; confirm: (r: R) => Promise<R> },
): Promise<R> {
  const sleep = deps.sleep ?? ((ms: number) => Bun.sleep(ms));
  for (let tryNo = 0; ; tryNo++) {
    try {
      const result = await attempt();
      return tryNo > 0 && confirm?.isLost(result) ? await confirm.confirm(result) : result;
    } catch (error) {
      if (!isRetryable(error) || tryNo >= policy.retries) throw error;
      deps.onRetry?.(error, tryNo + 1);
      await sleep(Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** tryNo));
    }
  }
}
