// Pacing of actual starts, in process and without the database: a GCRA over the times this process's
// requests really went out (per host and rate key), so a request that left late pushes the ones
// reserved behind it back instead of letting them catch up; and a cold key's first request (likely
// a new connection) holds the next ones until its answer begins. See README "Reserved and actual starts".
import type { Role } from "../net/types.ts";
import { gcraNextAt, gcraReserve } from "../store/gcra.ts";
import type { HostPolicy } from "./host-table.ts";
import { setRecent } from "./recent.ts";
import type { Sleep } from "./timers.ts";

/**
 * How much earlier than its pace allows a request may still go: a tenth of the interval, at most 5 ms.
 * Without it every request held back a moment would add its own timer's lateness (1–10 ms on a busy
 * machine) to all the later ones, and a saturated host would drift ever further behind its rate.
 */
const paceSlackMs = (intervalMs: number) => Math.min(5, intervalMs / 10);
/** A rate key idle this long is cold: its next request likely opens a new connection. */
const COLD_AFTER_MS = 5000;
/** The longest the requests behind a cold key's first one wait for its answer to begin. */
const COLD_WAIT_MAX_MS = 1000;
/** Rate keys whose in-process pace is remembered; beyond it the ones longest past are dropped. */
const PACED_KEYS_MAX = 4096;

/** The first request on a cold rate key, until its answer begins (see `pace`). */
interface Opening {
  id: string;
  intervalMs: number;
  since: number;
  /** Identity of the acquire that went. */
  by: object;
  answered: AbortController;
}

/** One request's rate key as the reservation chose it. */
export interface PaceKey {
  host: string;
  /** `role` or `robots` (crawl-delay budget). */
  key: string;
  intervalMs: number;
  burst: number;
}

/**
 * How much a request's spacing is widened beyond the host's interval by default: 2 ms, at most 4 %
 * of the interval (see `aimedInterval`).
 */
export const ARRIVAL_HEADROOM_MS = 2;

/**
 * The interval the reservations use: the host's, widened by `headroomMs` (at most 4 % of it) for
 * lateness after the permit that no check sees — a process preempted between the permit and the
 * socket, a busy receiving end. Across processes sharing the database, whose actual starts are not
 * paced together, one late start followed by ten on-time ones otherwise puts one request too many
 * into a window of ten intervals; 2 ms absorb 20 ms more of such lateness per ten intervals. It costs
 * 1 % of a 5/s host's throughput, 4 % of a 20/s one's.
 */
export function aimedInterval(intervalMs: number, headroomMs: number): number {
  return intervalMs + Math.min(headroomMs, intervalMs * 0.04);
}

/**
 * The rate budget a request draws on: its role's, or — for landing pages and files of a host with a
 * crawl delay — the host's one `robots` budget, burst 1, at least the delay apart; the interval
 * widened by `headroomMs` (`aimedInterval`).
 */
export function rateKeyOf(
  host: string,
  role: Role,
  policy: Pick<HostPolicy, "intervalMs" | "burst">,
  crawlDelayMs: number,
  headroomMs = 0,
): PaceKey {
  if (role === "metadata" || crawlDelayMs <= 0)
    return {
      host,
      key: role,
      intervalMs: aimedInterval(policy.intervalMs[role], headroomMs),
      burst: policy.burst,
    };
  const intervalMs = aimedInterval(Math.max(policy.intervalMs[role], crawlDelayMs), headroomMs);
  return { host, key: "robots", intervalMs, burst: 1 };
}

export class Pacer {
  /** Host + rate key → theoretical arrival time of this process's actual starts. */
  private readonly paced = new Map<string, number>();
  /** Host → the cold rate key whose first request's answer is awaited. */
  private readonly opening = new Map<string, Opening>();

  constructor(
    private readonly now: () => number,
    private readonly sleep: Sleep,
  ) {}

  /**
   * Let the request `me` start now when its pace allows (recording the start: the common case, no
   * wait and no promise hop), else hold it until it does; true, or the time it could go when that is
   * past the deadline. The check and the record happen in one synchronous step right before the
   * permit is returned, so two requests waking together cannot both pass.
   */
  start(k: PaceKey, deadline: number, me: object, signal?: AbortSignal): true | Promise<true | number> {
    const id = `${k.host}\n${k.key}`;
    if (this.startIfDue(k.host, id, k.intervalMs, k.burst, me)) return true;
    return this.pace(k.host, id, k.intervalMs, k.burst, deadline, me, signal);
  }

  /**
   * The answer of a cold key's first request began at `answeredAt`: it reached the host by then at
   * the latest, so the requests behind it keep the interval from then.
   */
  answered(host: string, answeredAt: number): void {
    this.opened(host, answeredAt);
  }

  /** The request `me` ended without an answer (cancelled, failed): the followers of a cold key wait no longer. */
  ended(host: string, me: object): void {
    if (this.opening.get(host)?.by === me) this.opened(host);
  }

  /**
   * Hold a request until its start is `interval` after the previous request of this process that
   * really went out (GCRA over actual starts, burst as configured, `paceSlackMs` of tolerance),
   * then record its start. A request on a cold key (none in a while) usually opens a new connection
   * and reaches the host well after it left (connect, first use of a connection: 15–35 ms on a busy
   * loopback): until its answer begins, that answer's time counts as its start (`answered`).
   */
  private async pace(
    host: string,
    id: string,
    interval: number,
    burst: number,
    deadline: number,
    me: object,
    signal?: AbortSignal,
  ): Promise<true | number> {
    for (;;) {
      const opening = this.opening.get(host);
      if (opening && opening.id === id) {
        const until = opening.since + COLD_WAIT_MAX_MS;
        const t = this.now();
        if (t >= until) this.opened(host);
        else if (t >= deadline) return Math.min(until, t + interval);
        else {
          const wake = AbortSignal.any(
            signal ? [signal, opening.answered.signal] : [opening.answered.signal],
          );
          try {
            await this.sleep(Math.min(until, deadline) - t, wake);
          } catch (e) {
            if (signal?.aborted) throw e;
          }
          continue;
        }
      }
      const now = this.now();
      const tat = this.paced.get(id) ?? 0;
      const next = gcraNextAt(tat, now, interval, burst) - paceSlackMs(interval);
      if (next <= now) {
        this.recordStart(host, id, interval, burst, tat, now, me);
        return true;
      }
      if (next > deadline) return next;
      await this.sleep(next - now, signal);
    }
  }

  /** `pace` without waiting: records the start and answers true when it may go now, else false. */
  private startIfDue(host: string, id: string, interval: number, burst: number, me: object): boolean {
    const opening = this.opening.get(host);
    const now = this.now();
    if (opening && opening.id === id && now < opening.since + COLD_WAIT_MAX_MS) return false;
    const tat = this.paced.get(id) ?? 0;
    if (gcraNextAt(tat, now, interval, burst) - paceSlackMs(interval) > now) return false;
    if (opening && opening.id === id) this.opened(host);
    this.recordStart(host, id, interval, burst, tat, now, me);
    return true;
  }

  /** A request on `id` goes now: move its pace on, and mark a cold key's first request. */
  private recordStart(
    host: string,
    id: string,
    interval: number,
    burst: number,
    tat: number,
    now: number,
    me: object,
  ): void {
    if (tat < now - COLD_AFTER_MS) {
      const opening = { id, intervalMs: interval, since: now, by: me, answered: new AbortController() };
      setRecent(this.opening, host, opening, PACED_KEYS_MAX);
    }
    setRecent(this.paced, id, gcraReserve(tat, now, interval, burst).tat, PACED_KEYS_MAX);
  }

  /**
   * The cold key's first request is over: with `answeredAt`, the interval counts from then; without
   * (it ended without an answer, or its answer is overdue) the requests behind it just stop waiting.
   */
  private opened(host: string, answeredAt?: number): void {
    const o = this.opening.get(host);
    if (!o) return;
    this.opening.delete(host);
    if (answeredAt !== undefined)
      this.paced.set(o.id, Math.max(this.paced.get(o.id) ?? 0, answeredAt + o.intervalMs));
    o.answered.abort();
  }
}
