// The state of one pool's connection to PostgreSQL as the runner sees it: every store on the pool
// retries statements that failed on a dropped connection (retry.ts) through `retrying`, and the
// first failure after a healthy spell is reported once ("down"), the first success after it once
// ("up") — a restart of the server gives two log lines, not one per query.
import type { SQL } from "bun";
import { type RetryPolicy, withRetry } from "./retry.ts";

export interface ConnectionListener {
  /** The first statement that failed on the connection since it was last healthy. */
  down(error: unknown): void;
  /** The first statement that succeeded after a `down`; `outageMs` since the down. */
  up(outageMs: number): void;
}

/**
 * Runner paths retry longer than one-off commands: a server restart or failover takes seconds to a
 * minute, and in-flight work should survive it (leases outlive the outage or are fenced anyway).
 */
export const RUNNER_RETRY: RetryPolicy = { retries: 14, baseDelayMs: 100, maxDelayMs: 5_000 };

export class ConnectionHealth {
  private downSince: number | null = null;
  private readonly listeners = new Set<ConnectionListener>();

  constructor(private readonly now: () => number = Date.now) {}

  listen(l: ConnectionListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get isDown(): boolean {
    return this.downSince !== null;
  }

  failed(error: unknown): void {
    if (this.downSince !== null) return;
    this.downSince = this.now();
    for (const l of this.listeners) l.down(error);
  }

  succeeded(): void {
    if (this.downSince === null) return;
    const outage = this.now() - this.downSince;
    this.downSince = null;
    for (const l of this.listeners) l.up(outage);
  }

  /** Run `op` with retries on connection errors, reporting the transitions; see withRetry. */
  async retrying<R>(
    op: () => Promise<R>,
    confirm?: { isLost: (r: R) => boolean; confirm: (r: R) => Promise<R> },
    policy: RetryPolicy = RUNNER_RETRY,
  ): Promise<R> {
    const r = await withRetry(op, policy, { onRetry: (e) => this.failed(e) }, confirm);
    this.succeeded();
    return r;
  }
}

const byPool = new WeakMap<SQL, ConnectionHealth>();

/** The one health record of a pool (created on first use), shared by every store built on it. */
export function connectionHealth(sql: SQL): ConnectionHealth {
  let h = byPool.get(sql);
  if (!h) {
    h = new ConnectionHealth();
    byPool.set(sql, h);
  }
  return h;
}
