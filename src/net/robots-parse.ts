// robots.txt parsing as RFC 9309 words it and as Google's open-source parser (google/robotstxt) reads
// real files: byte-level lines, a BOM prefix skipped, a missing colon and common misspellings of keys
// accepted, rule values percent-escaped (raw bytes ≥ 0x80 encoded, hex uppercased, nothing decoded),
// user-agent values cut to their product token. Pure: bytes in, groups out.

export interface RobotsRule {
  allow: boolean;
  /** The rule's value as Google's parser stores it (see `escapePattern`). */
  pattern: string;
}

export interface RobotsGroup {
  agents: string[];
  rules: RobotsRule[];
  /** Crawl-delay in seconds, when the group sets one. */
  crawlDelay?: number;
}

/** RFC 9309 2.5: crawlers must parse at least 500 KiB; the rest is ignored (as Google does). */
export const ROBOTS_MAX_BYTES = 500 * 1024;
/**
 * Bytes of one line that are read; the rest of the line is ignored. Google's parser: eight times the
 * longest URL browsers accept (2083), less the terminating NUL. Also the cap on a rule's length.
 */
export const ROBOTS_MAX_LINE_BYTES = 2083 * 8 - 1;

const BOM = [0xef, 0xbb, 0xbf];

type Key = "user-agent" | "allow" | "disallow" | "crawl-delay" | "other";

/**
 * Keys are recognised by prefix and case-insensitively, with the misspellings Google's parser
 * accepts (`useragent`, `user agent`, `dissallow`, `dissalow`, `disalow`, `diasllow`, `disallaw`).
 * Crawl-delay is ours: Google ignores it, and like any unknown line it does not end a group.
 */
function keyOf(raw: string): Key {
  const k = raw.toLowerCase();
  if (k.startsWith("user-agent") || k.startsWith("useragent") || k.startsWith("user agent"))
    return "user-agent";
  if (k.startsWith("allow")) return "allow";
  if (/^(disallow|dissallow|dissalow|disalow|diasllow|disallaw)/.test(k)) return "disallow";
  if (k.startsWith("crawl-delay")) return "crawl-delay";
  return "other";
}

/** Google strips ASCII whitespace only: a UTF-8 continuation byte 0xA0 is not a space. */
function stripAscii(s: string): string {
  return s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, "");
}

/**
 * `key: value`, or — Google's leniency for a forgotten colon — exactly two words separated by
 * whitespace (`disallow /`). Undefined for blank, comment-only and unparseable lines.
 */
function splitLine(raw: string): { key: string; value: string } | undefined {
  const hash = raw.indexOf("#");
  const line = stripAscii(hash >= 0 ? raw.slice(0, hash) : raw);
  if (line === "") return undefined;
  let sep = line.indexOf(":");
  let valueStart = sep + 1;
  if (sep < 0) {
    const space = /[ \t]+/.exec(line);
    if (!space) return undefined;
    sep = space.index;
    valueStart = sep + space[0].length;
    if (/[ \t]/.test(line.slice(valueStart))) return undefined; // more than two words
  }
  const key = stripAscii(line.slice(0, sep));
  if (key === "") return undefined;
  return { key, value: stripAscii(line.slice(valueStart)) };
}

/**
 * The body as a "binary string" (one char per byte, so limits and escaping work on bytes as
 * Google's do), capped at ROBOTS_MAX_BYTES, without a leading UTF-8 BOM or a prefix of one.
 */
function bodyBytes(body: string | Uint8Array): string {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  let start = 0;
  while (start < BOM.length && bytes[start] === BOM[start]) start++;
  const end = Math.min(bytes.length, ROBOTS_MAX_BYTES);
  if (start >= end) return "";
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString("latin1");
}

/** Whether a value has a lowercase escape or a non-ASCII character (else escaping changes nothing). */
const NEEDS_ESCAPE = /%(?:[a-f][0-9A-Fa-f]|[0-9A-F][a-f])|[\x80-\uffff]/;

/**
 * Google's MaybeEscapePattern: `%xx` escapes get uppercase hex, bytes ≥ 0x80 become `%XX`, and
 * nothing is decoded, so `/%62%61%7A` stays distinct from `/baz`. Takes a binary string (see
 * `bodyBytes`); `escapePattern` takes an ordinary one.
 */
function escapeBinary(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s; // most rules: nothing to do, and no callback per match
  return s.replace(/%([0-9A-Fa-f]{2})|[\x80-\xff]/g, (m, hex: string | undefined) =>
    hex !== undefined
      ? `%${hex.toUpperCase()}`
      : `%${m.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
}

/** A rule value as Google's parser stores it (UTF-8 percent-encoded, hex uppercased). Idempotent. */
export function escapePattern(pattern: string): string {
  if (!NEEDS_ESCAPE.test(pattern)) return pattern;
  return escapeBinary(Buffer.from(pattern, "utf8").toString("latin1"));
}

export function parseRobots(body: string | Uint8Array): RobotsGroup[] {
  const groups: RobotsGroup[] = [];
  let current: RobotsGroup | undefined;
  let inAgents = false;
  for (const raw of bodyBytes(body).split(/\r\n|\r|\n/)) {
    const kv = splitLine(raw.length > ROBOTS_MAX_LINE_BYTES ? raw.slice(0, ROBOTS_MAX_LINE_BYTES) : raw);
    if (!kv) continue;
    const key = keyOf(kv.key);
    if (key === "user-agent") {
      if (!current || !inAgents) {
        current = { agents: [], rules: [] };
        groups.push(current);
      }
      current.agents.push(Buffer.from(kv.value, "latin1").toString("utf8"));
      inAgents = true;
    } else if (key === "allow" || key === "disallow") {
      // A rule ends the run of user-agent lines, even an empty one (which matches nothing).
      inAgents = false;
      // Rules before any user-agent line belong to no group (RFC 9309 2.1).
      if (current && kv.value !== "")
        current.rules.push({ allow: key === "allow", pattern: escapeBinary(kv.value) });
    } else if (key === "crawl-delay" && current) {
      const n = Number(kv.value);
      if (kv.value !== "" && Number.isFinite(n) && n >= 0) current.crawlDelay = n;
    }
    // Sitemap and unknown lines neither start nor end a group.
  }
  return groups;
}

/** `*`, or `*` followed by whitespace and anything (Google reads `* foo` as the global group). */
function isGlobalAgent(agent: string): boolean {
  return agent.startsWith("*") && (agent.length === 1 || /[ \t\n\v\f\r]/.test(agent.charAt(1)));
}

/** The leading product-token characters of a user-agent value: `Foo Bar` → `Foo`, `AB42bot` → `AB`. */
export function productTokenOf(agent: string): string {
  return /^[A-Za-z_-]*/.exec(agent)?.[0] ?? "";
}

/**
 * The rules that apply to the crawler named `productToken` (compared as configured, ignoring
 * case): every group naming it, merged — even when they hold no rules —, else every global group,
 * merged, else none (allow everything).
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
  return (
    pick((a) => !isGlobalAgent(a) && productTokenOf(a).toLowerCase() === token) ??
    pick(isGlobalAgent) ?? { agents: [], rules: [] }
  );
}
