// A host's health as the gate sees it: the circuit breaker (an open one refuses, a half-open one
// grants one trial under the write lock) and cool-downs (429/503, Retry-After, backoff), kept in the
// host's row; every answer the client reports is applied here, with no read when nothing can change.
import type { Observation } from "../net/politeness-port.ts";
import { emptyHostRow, type HostRow, sameHostRow } from "../store/host-state.ts";
import { detach, type Maybe, mapMaybe } from "../store/maybe.ts";
import {
  type BreakerSettings,
  type BreakerState,
  breakerAdmit,
  breakerRecord,
  breakerReleaseTrial,
  failureCause,
  verdictOf,
} from "./breaker.ts";
import { type CooldownSettings, cooldownAfter } from "./cooldown.ts";
import { type AnnouncedLimits, type HostTable, parseAnnouncedLimits } from "./host-table.ts";
import { setRecent } from "./recent.ts";
import type { SharedState } from "./shared-state.ts";
import type { Sleep } from "./timers.ts";

/** How long a healthy reading of a host's row lets a success skip the read in `record`. */
const CLEAN_FOR_MS = 2000;
const CLEAN_HOSTS_MAX = 4096;

export interface BreakerGateOptions {
  shared: SharedState;
  table: HostTable;
  /** Identity of this process, recorded as a trial's holder. */
  owner: string;
  now: () => number;
  sleep: Sleep;
  breaker: BreakerSettings;
  /** Told of a background write that failed (PostgreSQL: the connection dropped). */
  onStoreError: (e: unknown) => void;
  /** `politeness.retry_after_cap_s` in ms: the longest cool-down. */
  capMs: number;
}

export type Admission = { admit: true; trial: boolean } | { admit: false; retryAt: number };

export class BreakerGate {
  /** Trials this process was granted and has not heard the answer of: host → slot token. */
  private readonly trials = new Map<string, string>();
  /** Hosts seen healthy at their last acquire → when (see `noteClean`). */
  private readonly clean = new Map<string, number>();

  constructor(private readonly o: BreakerGateOptions) {}

  /**
   * Remember hosts whose row was healthy at their last acquire (bounded: the oldest are forgotten),
   * so the success that usually follows needs no read.
   */
  noteClean(host: string, row: HostRow | null, now: number): void {
    this.clean.delete(host);
    if (row && (row.failures !== 0 || row.backoff_ms !== 0 || row.breaker !== "closed")) return;
    setRecent(this.clean, host, now, CLEAN_HOSTS_MAX);
  }

  /** Wait out a cool-down if it ends before the deadline; else the time it ends. */
  async waitCooldown(
    row: HostRow | null,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<"clear" | "waited" | number> {
    const until = row?.cooldown_until ?? 0;
    const now = this.o.now();
    if (until <= now) return "clear";
    if (until > deadline) return until;
    await this.o.sleep(until - now, signal);
    return "waited";
  }

  /** Grant or refuse under the write lock, so exactly one process gets a half-open host's trial. */
  admit(host: string): Maybe<Admission> {
    let result: Admission = { admit: true, trial: false };
    const done = this.o.shared.updateHost(host, this.o.now(), (row) => {
      const a = breakerAdmit(toBreaker(row), this.o.now(), this.o.breaker);
      result = a.admit ? { admit: true, trial: a.trial } : { admit: false, retryAt: a.retryAt };
      if (!a.admit || !a.trial) return row;
      return { ...row, ...fromBreaker(a.state, row), trial_owner: this.o.owner };
    });
    return mapMaybe(done, () => result);
  }

  /** The trial granted to this process goes out holding the host slot `token`. */
  holdTrial(host: string, token: string): void {
    this.trials.set(host, token);
  }

  /** The request holding `token` ended: a trial whose answer never came must not block the host until it expires. */
  endTrial(host: string, token: string | undefined): void {
    if (this.trials.get(host) === token) this.abandonTrial(host);
  }

  /** Give the trial back unanswered: the next request may try. */
  abandonTrial(host: string): void {
    this.trials.delete(host);
    const done = this.o.shared.updateHost(host, this.o.now(), (row) =>
      row.trial_owner === this.o.owner
        ? { ...row, ...fromBreaker(breakerReleaseTrial(toBreaker(row)), row) }
        : row,
    );
    detach(done, this.o.onStoreError);
  }

  /** Apply a host's answer to its breaker, cool-down and announced limits. */
  record(host: string, o: Observation, now: number): Maybe<void> {
    const announced = o.headers ? parseAnnouncedLimits(o.headers) : undefined;
    if (this.trials.has(host) && verdictOf(o) !== "neutral") this.trials.delete(host);
    // A success on a host that was healthy when its request set out changes nothing: no read, no write.
    if (announced === undefined && isPlainSuccess(o) && (this.clean.get(host) ?? -1) >= now - CLEAN_FOR_MS)
      return;
    const apply = (row: HostRow) => this.applyObservation(row, o, announced, now);
    // Otherwise most answers still change nothing: find out with a read, write only if not.
    return mapMaybe(this.o.shared.hostRow(host, now, true), (read) => {
      const current = read ?? emptyHostRow(host);
      if (sameHostRow(current, apply(current))) return;
      this.clean.delete(host);
      return mapMaybe(this.o.shared.updateHost(host, now, apply), () => undefined);
    }) as Maybe<void>;
  }

  private applyObservation(
    row: HostRow,
    o: Observation,
    a: AnnouncedLimits | undefined,
    now: number,
  ): HostRow {
    const policy = this.o.table.policyFor(row.host);
    const cfg: CooldownSettings = { initialBackoffMs: policy.initialBackoffMs, capMs: this.o.capMs };
    const cd = cooldownAfter({ until: row.cooldown_until, backoffMs: row.backoff_ms }, o, now, cfg);
    const br = breakerRecord(toBreaker(row), verdictOf(o), now, this.o.breaker);
    const opened = br.phase === "open" && row.breaker !== "open";
    const next: HostRow = {
      ...row,
      cooldown_until: cd.until,
      backoff_ms: cd.backoffMs,
      ...fromBreaker(br, row),
      count_429: row.count_429 + (o.status === 429 ? 1 : 0),
      breaker_reason: opened ? failureCause(o) : row.breaker_reason,
    };
    if (a) {
      next.announced_interval_ms = a.intervalMs ?? 0;
      next.announced_concurrency = a.maxConcurrent ?? 0;
    }
    return next;
  }
}

/** An answer that, on a healthy host, changes no state: not a failure, not a slow-down, not neutral. */
function isPlainSuccess(o: Observation): boolean {
  return (
    o.failure === undefined && o.status !== undefined && o.status < 500 && o.status !== 429 && !o.slowDown
  );
}

function toBreaker(row: HostRow): BreakerState {
  return {
    phase: row.breaker,
    failures: row.failures,
    openUntil: row.open_until,
    trialUntil: row.trial_until,
  };
}

function fromBreaker(
  s: BreakerState,
  row: HostRow,
): Pick<HostRow, "breaker" | "failures" | "open_until" | "trial_until" | "trial_owner"> {
  return {
    breaker: s.phase,
    failures: s.failures,
    open_until: s.openUntil,
    trial_until: s.trialUntil,
    trial_owner: s.phase === "half_open" && s.trialUntil > 0 ? row.trial_owner : null,
  };
}
