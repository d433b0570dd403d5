// What other processes sharing the database may change about a host — its row (cool-down, breaker,
// crawl delay, announced limits) and whether they queue for its slots — read at most once per
// `freshMs` per host; what this process writes itself is remembered at once.
import type { HostRow, HostStateStore } from "../store/host-state.ts";
import { type Maybe, mapMaybe } from "../store/maybe.ts";
import { setRecent } from "./recent.ts";

/** Hosts whose shared state (row, waiters) is remembered; beyond it the least recent are dropped. */
const SEEN_HOSTS_MAX = 4096;

/** What was read of a host's shared state, and when. */
interface Reading<T> {
  value: T;
  at: number;
}

export class SharedState {
  /** Host → its row as last read or written, and when. */
  private readonly rowSeen = new Map<string, Reading<HostRow | null>>();
  /** Host → whether other processes waited for its slots at the last look, and when. */
  private readonly waitersSeen = new Map<string, Reading<boolean>>();

  /** `freshMs`: how long a reading is trusted before reading again (0 reads before every use). */
  constructor(
    private readonly store: HostStateStore,
    private readonly freshMs: number,
  ) {}

  /** The host's row, read at most once per `freshMs`; `fresh` reads it from the database in any case. */
  hostRow(host: string, now: number, fresh = false): Maybe<HostRow | null> {
    return this.reading(this.rowSeen, host, now, () => this.store.readHost(host), fresh);
  }

  /** `HostStateStore.updateHost`, remembering the row it leaves. */
  updateHost(host: string, now: number, change: (row: HostRow) => HostRow): Maybe<HostRow> {
    return mapMaybe(this.store.updateHost(host, now, change), (row) => {
      setRecent(this.rowSeen, host, { value: row, at: now }, SEEN_HOSTS_MAX);
      return row;
    });
  }

  /** Whether other processes queue for the host's slots, read at most once per `freshMs`. */
  othersWaiting(host: string, now: number): Maybe<boolean> {
    return this.reading(this.waitersSeen, host, now, () =>
      mapMaybe(this.store.waiters(host, now), (n) => n > 0),
    );
  }

  /** This process queued for the host's slots itself: the next look at the waiters reads again. */
  forgetWaiters(host: string): void {
    this.waitersSeen.delete(host);
  }

  /** The reading in `seen` when younger than `freshMs` (and not `forced`), else `read()` now, remembered. */
  private reading<T>(
    seen: Map<string, Reading<T>>,
    host: string,
    now: number,
    read: () => Maybe<T>,
    forced = false,
  ): Maybe<T> {
    const last = seen.get(host);
    if (!forced && last && now >= last.at && now - last.at < this.freshMs) return last.value;
    return mapMaybe(read(), (value) => {
      setRecent(seen, host, { value, at: now }, SEEN_HOSTS_MAX);
      return value;
    });
  }
}
