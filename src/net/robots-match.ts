// Matching URL paths against a group's robots.txt rules in linear time: each rule is compiled once
// per cached verdict into literal segments between its `*`s (greedy leftmost search, KMP tables for
// long segments), and rules are tried longest first, Allow before Disallow on a tie (RFC 9309 2.2.2),
// so the first rule that matches decides. No regular expressions: robots.txt is written by strangers.
import { normalizePercentEncoding } from "../core/url.ts";
import { escapePattern, ROBOTS_MAX_LINE_BYTES, type RobotsGroup } from "./robots-parse.ts";

/**
 * At most this many rules of a verdict are kept. A 500 KiB file holds at most about 64,000 rules of
 * the shortest form (`allow:*` and a newline), so this only bounds verdicts stored by other
 * processes; the cost of a check is linear in rules × path length plus the rules' total length.
 */
export const ROBOTS_MAX_RULES = 65_536;

/** Segments longer than this are searched with KMP; shorter ones with indexOf (n·m stays linear). */
const KMP_MIN = 32;

interface Segment {
  text: string;
  /** KMP failure table, for long segments only. */
  fail?: Int32Array;
}

export interface CompiledRule {
  allow: boolean;
  /** The pattern's length in octets (as written, `*` and `$` included): Google's match priority. */
  priority: number;
  /** The literal before the first `*` (the whole pattern when it has none). */
  head: string;
  /** Literals between `*`s, in order; empty segments dropped. Undefined without a `*`. */
  middle?: Segment[];
  /** The literal after the last `*` (empty when the pattern ends with `*`). */
  tail?: Segment;
  /** A final `$`: the match must end where the path ends. */
  anchored: boolean;
}

export interface CompiledRobots {
  /** Longest first, Allow before Disallow on equal length. */
  rules: CompiledRule[];
  crawlDelay?: number;
}

function failureTable(p: string): Int32Array {
  const f = new Int32Array(p.length);
  let k = 0;
  for (let i = 1; i < p.length; i++) {
    while (k > 0 && p.charCodeAt(i) !== p.charCodeAt(k)) k = f[k - 1] as number;
    if (p.charCodeAt(i) === p.charCodeAt(k)) k++;
    f[i] = k;
  }
  return f;
}

function segment(text: string): Segment {
  return text.length > KMP_MIN ? { text, fail: failureTable(text) } : { text };
}

/** First index ≥ `from` where `seg` occurs in `s`, or -1; O(|s| + |seg|) in the worst case. */
function indexFrom(seg: Segment, s: string, from: number): number {
  const { text, fail } = seg;
  if (!fail) return s.indexOf(text, from);
  let k = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    while (k > 0 && text.charCodeAt(k) !== c) k = fail[k - 1] as number;
    if (text.charCodeAt(k) === c) k++;
    if (k === text.length) return i - k + 1;
  }
  return -1;
}

/** Compile one (escaped) pattern. `$` is special only as the last character, as in Google's matcher. */
export function compileRule(allow: boolean, pattern: string): CompiledRule {
  const anchored = pattern.endsWith("$");
  const body = anchored ? pattern.slice(0, -1) : pattern;
  const parts = body.split("*");
  const head = parts[0] as string;
  if (parts.length === 1) return { allow, priority: pattern.length, head, anchored };
  const middle = parts
    .slice(1, -1)
    .filter((p) => p !== "")
    .map(segment);
  return { allow, priority: pattern.length, head, middle, tail: segment(parts.at(-1) as string), anchored };
}

/**
 * Whether `rule` matches `path` from its start. With `*`s, the head must be a prefix, each middle
 * literal is taken at its leftmost occurrence after the previous one (for patterns whose only
 * wildcard is `*`, leftmost is never worse), and the tail must follow — at the very end if anchored.
 */
export function ruleMatches(rule: CompiledRule, path: string): boolean {
  const { head, middle, tail, anchored } = rule;
  if (!path.startsWith(head)) return false;
  if (!middle || !tail) return !anchored || path.length === head.length;
  let pos = head.length;
  for (const seg of middle) {
    const at = indexFrom(seg, path, pos);
    if (at < 0) return false;
    pos = at + seg.text.length;
  }
  if (anchored) return path.length - tail.text.length >= pos && path.endsWith(tail.text);
  return tail.text === "" || indexFrom(tail, path, pos) >= 0;
}

/**
 * A group's rules ready to check paths: escaped (idempotent for parsed rules, and it fixes verdicts
 * stored by older versions), capped in count and length, deduplicated, ordered by precedence. An
 * `Allow` of `…/index.htm[l]` also allows its directory, exactly (Google's `…/$`).
 */
export function compileGroup(group: RobotsGroup): CompiledRobots {
  const seen = new Set<string>();
  const rules: CompiledRule[] = [];
  const add = (allow: boolean, pattern: string) => {
    const key = `${allow ? "A" : "D"}${pattern}`;
    if (seen.has(key)) return;
    seen.add(key);
    rules.push(compileRule(allow, pattern));
  };
  for (const rule of group.rules.slice(0, ROBOTS_MAX_RULES)) {
    const pattern = escapePattern(rule.pattern).slice(0, ROBOTS_MAX_LINE_BYTES);
    if (pattern === "") continue; // matches with priority 0: never decides anything
    add(rule.allow, pattern);
    const slash = pattern.lastIndexOf("/");
    if (rule.allow && slash >= 0 && pattern.startsWith("/index.htm", slash))
      add(true, `${pattern.slice(0, slash + 1)}$`);
  }
  rules.sort((a, b) => b.priority - a.priority || Number(b.allow) - Number(a.allow));
  return group.crawlDelay === undefined ? { rules } : { rules, crawlDelay: group.crawlDelay };
}

/**
 * The path compared with the rules: what is actually requested, the path in canonical
 * percent-encoding (as `parseUrl` sends it) and the query as given. Google's matcher takes the URL
 * as sent, already escaped, and compares rules with it as written.
 */
export function requestTarget(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf("?");
  const rawPath = q >= 0 ? pathAndQuery.slice(0, q) : pathAndQuery;
  const path = rawPath === "" ? "/" : normalizePercentEncoding(rawPath);
  return q >= 0 ? path + pathAndQuery.slice(q) : path;
}

/** Whether `pathAndQuery` may be fetched: the longest matching rule decides, Allow on a tie. */
export function allows(robots: CompiledRobots, pathAndQuery: string): boolean {
  const target = requestTarget(pathAndQuery);
  // RFC 9309 3: /robots.txt itself is always allowed, whatever its query.
  if (target === "/robots.txt" || target.startsWith("/robots.txt?")) return true;
  for (const rule of robots.rules) if (ruleMatches(rule, target)) return rule.allow;
  return true;
}
