// robots.txt (RFC 9309, read as Google's open-source parser reads it): a per-origin cache with a
// TTL that turns a robots.txt fetch into a verdict: 2xx parse, 4xx allow all, 5xx/429 or unreachable
// disallow for now and ask again later. A verdict's rules are compiled once and every check is
// linear in their size (robots-parse.ts reads the file, robots-match.ts matches paths). Verdicts
// also go to an optional shared store (robots-store.ts), so processes on one database fetch each
// robots.txt once per TTL between them.
import type { Reason } from "../core/reasons.ts";
import {
  allows,
  type CompiledRobots,
  compileGroup,
  compileRule,
  requestTarget,
  ruleMatches,
} from "./robots-match.ts";
import { escapePattern, groupFor, parseRobots, type RobotsGroup } from "./robots-parse.ts";
import type { RobotsStore, StoredRobots } from "./robots-store.ts";

export { ROBOTS_MAX_RULES } from "./robots-match.ts";
export {
  groupFor,
  parseRobots,
  ROBOTS_MAX_BYTES,
  ROBOTS_MAX_LINE_BYTES,
  type RobotsGroup,
  type RobotsRule,
} from "./robots-parse.ts";

/** Whether `pathAndQuery` may be fetched under `group` (compiles it: for one-off checks and tests). */
export function isAllowed(group: RobotsGroup, pathAndQuery: string): boolean {
  return allows(compileGroup(group), pathAndQuery);
}

/** Whether one rule's pattern (as written in a robots.txt) matches `path` from its start. */
export function matches(pattern: string, path: string): boolean {
  return ruleMatches(compileRule(false, escapePattern(pattern)), requestTarget(path));
}

/** What fetching `<origin>/robots.txt` gave. */
export type RobotsFetch =
  /** The body as fetched (bytes, so a BOM or a partial one is seen as Google sees it), or text. */
  { status: number; body: Uint8Array | string } | { failure: Reason; message: string };

export type RobotsVerdict =
  | { allowed: true; crawlDelayMs?: number }
  | { allowed: false; reason: "robots_disallowed"; message: string }
  /** robots.txt could not be read: disallowed for now, transient, ask again at `retryAt`. */
  | { allowed: false; reason: Reason; message: string; retryAt: number };

export interface RobotsCacheOptions {
  productToken: string;
  ttlMs: number;
  /** How long an unreadable robots.txt keeps an origin closed before it is fetched again. */
  retryMs?: number;
  crawlDelayCapMs: number;
  now: () => number;
  fetchRobots(origin: string): Promise<RobotsFetch>;
  /** Told the (capped) Crawl-delay of an origin's host whenever its robots.txt is read. */
  onCrawlDelay?(origin: string, ms: number): void;
  /** Verdicts shared with other processes: consulted before fetching, written after. */
  store?: RobotsStore;
}

export interface RobotsCache {
  check(url: URL, origin: string): Promise<RobotsVerdict>;
}

export function createRobotsCache(o: RobotsCacheOptions): RobotsCache {
  /** Verdicts in process; a verdict with rules carries them compiled, once. */
  type Entry =
    | { stored: Extract<StoredRobots, { kind: "rules" }>; compiled: CompiledRobots }
    | { stored: Exclude<StoredRobots, { kind: "rules" }> };
  const entries = new Map<string, Entry>();
  const pending = new Map<string, Promise<Entry>>();
  const retryMs = o.retryMs ?? Math.min(o.ttlMs, 5 * 60_000);
  /** A group's Crawl-delay in ms, capped. */
  const crawlDelayMs = (group: { crawlDelay?: number }) =>
    Math.min((group.crawlDelay ?? 0) * 1000, o.crawlDelayCapMs);

  const load = async (origin: string): Promise<Entry> => {
    const got = await o.fetchRobots(origin);
    const now = o.now();
    let entry: StoredRobots;
    if ("failure" in got) {
      entry = {
        expires: now + retryMs,
        kind: "unavailable",
        failure: { reason: got.failure, message: got.message },
      };
    } else if (got.status >= 200 && got.status < 300) {
      entry = {
        expires: now + o.ttlMs,
        kind: "rules",
        group: groupFor(parseRobots(got.body), o.productToken),
      };
    } else if (got.status >= 400 && got.status < 500 && got.status !== 429) {
      entry = { expires: now + o.ttlMs, kind: "allow_all" };
    } else {
      const message = `robots.txt of ${origin} answered ${got.status}`;
      entry = {
        expires: now + retryMs,
        kind: "unavailable",
        failure: { reason: `http_${got.status}`, message },
      };
    }
    // A verdict that could not be shared is still used here; the next process fetches the file.
    if (o.store) await o.store.put(origin, entry);
    return remember(origin, entry);
  };

  /** Keep a verdict in process, and pass its Crawl-delay on (a readable robots.txt sets or clears it). */
  const remember = (origin: string, stored: StoredRobots): Entry => {
    const entry: Entry =
      stored.kind === "rules" ? { stored, compiled: compileGroup(stored.group) } : { stored };
    entries.set(origin, entry);
    if (stored.kind === "rules") o.onCrawlDelay?.(origin, crawlDelayMs(stored.group));
    else if (stored.kind === "allow_all") o.onCrawlDelay?.(origin, 0);
    return entry;
  };

  const entryFor = (origin: string): Promise<Entry> => {
    const now = o.now();
    const cached = entries.get(origin);
    if (cached && cached.stored.expires > now) return Promise.resolve(cached);
    let p = pending.get(origin);
    if (!p) {
      p = (async () => {
        const shared = await o.store?.get(origin);
        if (shared && shared.expires > o.now()) return remember(origin, shared);
        return await load(origin);
      })().finally(() => pending.delete(origin));
      pending.set(origin, p);
    }
    return p;
  };

  return {
    async check(url, origin) {
      const entry = await entryFor(origin);
      if (!("compiled" in entry)) {
        const stored = entry.stored;
        if (stored.kind === "allow_all") return { allowed: true };
        const f = stored.failure;
        return {
          allowed: false,
          reason: f.reason,
          message: `${f.message}; not fetching ${url.href} until it can be read`,
          retryAt: stored.expires,
        };
      }
      const robots = entry.compiled;
      if (allows(robots, url.pathname + url.search)) {
        if (!robots.crawlDelay) return { allowed: true };
        return { allowed: true, crawlDelayMs: crawlDelayMs(robots) };
      }
      return {
        allowed: false,
        reason: "robots_disallowed",
        message: `robots.txt of ${origin} disallows ${url.href}`,
      };
    },
  };
}
