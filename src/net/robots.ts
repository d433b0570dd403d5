// robots.txt (RFC 9309): a pure parser and matcher (groups by user-agent, longest match, Allow wins
// ties, `*` and `$`, Crawl-delay), and a per-origin cache with a TTL that turns a robots.txt fetch
// into a verdict: 2xx parse, 4xx allow all, 5xx/429 or unreachable disallow for now and ask again later.
// Verdicts also go to an optional shared store (robots-store.ts), so processes on one database
// fetch each robots.txt once per TTL between them.
import type { Reason } from "../core/reasons.ts";
import { normalizePercentEncoding } from "../core/url.ts";
import type { RobotsStore, StoredRobots } from "./robots-store.ts";

export interface RobotsRule {
  allow: boolean;
  pattern: string;
}

export interface RobotsGroup {
  agents: string[];
  rules: RobotsRule[];
  /** Crawl-delay in seconds, when the group sets one. */
  crawlDelay?: number;
}

/** RFC 9309 2.5: crawlers must parse at least 500 KiB; the rest is ignored. */
export const ROBOTS_MAX_BYTES = 500 * 1024;

export function parseRobots(text: string): RobotsGroup[] {
  const groups: RobotsGroup[] = [];
  let current: RobotsGroup | undefined;
  let lastWasAgent = false;
  for (const raw of text.slice(0, ROBOTS_MAX_BYTES).split(/\r\n|\r|\n/)) {
    const line = raw.replace(/#.*$/, "").trim();
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === "user-agent") {
      if (!current || !lastWasAgent) {
        current = { agents: [], rules: [] };
        groups.push(current);
      }
      current.agents.push(value.toLowerCase());
      lastWasAgent = true;
      continue;
    }
    if (key === "allow" || key === "disallow") {
      lastWasAgent = false;
      // Rules before any user-agent line belong to no group (RFC 9309 2.1).
      if (current && value !== "") current.rules.push({ allow: key === "allow", pattern: value });
      continue;
    }
    if (key === "crawl-delay") {
      lastWasAgent = false;
      const n = Number(value);
      if (current && Number.isFinite(n) && n >= 0) current.crawlDelay = n;
    }
    // Other lines (sitemap, host, …) neither start nor end a group.
  }
  return groups;
}

/**
 * The rules that apply to `productToken`: every group naming it (case-insensitive, merged), else
 * every `*` group (merged), else none (allow everything).
 */
export function groupFor(groups: RobotsGroup[], productToken: string): RobotsGroup {
  const token = productToken.toLowerCase();
  const pick = (match: (agent: string) => boolean) => {
    const chosen = groups.filter((g) => g.agents.some(match));
    if (chosen.length === 0) return undefined;
    const delays = chosen.map((g) => g.crawlDelay).filter((d): d is number => d !== undefined);
    return {
      agents: chosen.flatMap((g) => g.agents),
      rules: chosen.flatMap((g) => g.rules),
      crawlDelay: delays.length > 0 ? Math.max(...delays) : undefined,
    };
  };
  return pick((a) => a === token) ?? pick((a) => a === "*") ?? { agents: [], rules: [] };
}

/** Whether `pathAndQuery` may be fetched under `group`: the longest matching rule wins, Allow on a tie. */
export function isAllowed(group: RobotsGroup, pathAndQuery: string): boolean {
  const path = normalizePercentEncoding(pathAndQuery || "/");
  if (path === "/robots.txt") return true;
  let best: RobotsRule | undefined;
  for (const rule of group.rules) {
    if (!matches(rule.pattern, path)) continue;
    const len = normalizePercentEncoding(encodeNonAscii(rule.pattern)).length;
    const bestLen = best ? normalizePercentEncoding(encodeNonAscii(best.pattern)).length : -1;
    if (len > bestLen || (len === bestLen && rule.allow && !best?.allow)) best = rule;
  }
  return best?.allow ?? true;
}

/** RFC 9309 2.2.3: `*` matches any sequence, a final `$` anchors the end; otherwise a prefix match. */
export function matches(pattern: string, path: string): boolean {
  const anchored = pattern.endsWith("$");
  // Patterns may carry raw UTF-8 while URL paths are percent-encoded: compare encoded forms.
  const body = normalizePercentEncoding(encodeNonAscii(anchored ? pattern.slice(0, -1) : pattern));
  const re = body
    .split("*")
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${re}${anchored ? "$" : ""}`, "s").test(normalizePercentEncoding(path));
}

function encodeNonAscii(s: string): string {
  return s.replace(/\P{ASCII}+/gu, (c) => encodeURIComponent(c));
}

/** What fetching `<origin>/robots.txt` gave. */
export type RobotsFetch = { status: number; body: string } | { failure: Reason; message: string };

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
  const entries = new Map<string, StoredRobots>();
  const pending = new Map<string, Promise<StoredRobots>>();
  const retryMs = o.retryMs ?? Math.min(o.ttlMs, 5 * 60_000);
  /** A group's Crawl-delay in ms, capped. */
  const crawlDelayMs = (group: RobotsGroup) => Math.min((group.crawlDelay ?? 0) * 1000, o.crawlDelayCapMs);

  const load = async (origin: string): Promise<StoredRobots> => {
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
    o.store?.put(origin, entry);
    return remember(origin, entry);
  };

  /** Keep a verdict in process, and pass its Crawl-delay on (a readable robots.txt sets or clears it). */
  const remember = (origin: string, entry: StoredRobots): StoredRobots => {
    entries.set(origin, entry);
    if (entry.kind === "rules") o.onCrawlDelay?.(origin, crawlDelayMs(entry.group));
    else if (entry.kind === "allow_all") o.onCrawlDelay?.(origin, 0);
    return entry;
  };

  const entryFor = (origin: string): Promise<StoredRobots> => {
    const now = o.now();
    const cached = entries.get(origin);
    if (cached && cached.expires > now) return Promise.resolve(cached);
    const shared = o.store?.get(origin);
    if (shared && shared.expires > now) return Promise.resolve(remember(origin, shared));
    let p = pending.get(origin);
    if (!p) {
      p = load(origin).finally(() => pending.delete(origin));
      pending.set(origin, p);
    }
    return p;
  };

  return {
    async check(url, origin) {
      const entry = await entryFor(origin);
      if (entry.kind === "allow_all") return { allowed: true };
      if (entry.kind === "unavailable") {
        const f = entry.failure;
        return {
          allowed: false,
          reason: f.reason,
          message: `${f.message}; not fetching ${url.href} until it can be read`,
          retryAt: entry.expires,
        };
      }
      const group = entry.group;
      if (isAllowed(group, url.pathname + url.search)) {
        if (!group.crawlDelay) return { allowed: true };
        return { allowed: true, crawlDelayMs: crawlDelayMs(group) };
      }
      return {
        allowed: false,
        reason: "robots_disallowed",
        message: `robots.txt of ${origin} disallows ${url.href}`,
      };
    },
  };
}
