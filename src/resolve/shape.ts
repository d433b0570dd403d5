// Tolerant readers for API JSON: services add keys at any time and some fields come and go, so
// resolvers read only what they need and treat a wrong top-level shape as a malformed answer.

export class MalformedResponse extends Error {
  override name = "MalformedResponse";
}

export type Json = Record<string, unknown>;

export function isObject(x: unknown): x is Json {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** The value as an object, or throws MalformedResponse naming what was expected. */
export function expectObject(x: unknown, what: string): Json {
  if (!isObject(x)) throw new MalformedResponse(`expected ${what} to be a JSON object`);
  return x;
}

export function objects(x: unknown): Json[] {
  return Array.isArray(x) ? x.filter(isObject) : [];
}

/** A non-empty trimmed string, or undefined (S2 answers "" for closed papers). */
export function text(x: unknown): string | undefined {
  if (typeof x !== "string") return undefined;
  const t = x.trim();
  return t === "" ? undefined : t;
}

/** An absolute http(s) URL, or undefined. */
export function httpUrl(x: unknown): string | undefined {
  const t = text(x);
  if (!t) return undefined;
  try {
    const u = new URL(t);
    return u.protocol === "http:" || u.protocol === "https:" ? t : undefined;
  } catch {
    return undefined;
  }
}

/** Drop undefined values so provenance records stay small and stable. */
export function compact<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) out[k] = v;
  return out as T;
}

/**
 * An identifier as URL path text, percent-encoded, with its `/` kept as separators for services that
 * take it that way (doi.org, Unpaywall, arXiv) or encoded into one segment. Null when a segment would
 * be `.` or `..`: the URL parser removes such segments (decoding `%2e` first), so the request would
 * go to another path on the host, and no encoding asks the service for the same identifier.
 */
export function identifierPath(id: string, slashes: "keep" | "encode"): string | null {
  const segments = slashes === "keep" ? id.split("/") : [id];
  if (segments.some((s) => s === "." || s === "..")) return null;
  return segments.map(encodeURIComponent).join("/");
}

/** Why a resolver does not ask for an identifier `identifierPath` refuses. */
export const DOT_SEGMENT_SKIP = "identifier has a `.` or `..` path segment";

export function trimSlash(base: string): string {
  return base.replace(/\/+$/, "");
}

/** First occurrence of each (kind, URL) wins: APIs repeat the best location inside the full list. */
export function uniqueSeeds<T extends { url: string; kind: string }>(seeds: T[]): T[] {
  const seen = new Set<string>();
  return seeds.filter((s) => {
    const key = `${s.kind} ${s.url}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A JSON value that is one object or a list of them (XML-derived JSON such as OpenAIRE's) as a list. */
export function oneOrMany(x: unknown): Json[] {
  return isObject(x) ? [x] : objects(x);
}

/** The text of an XML-derived node: the string itself or its `$` value. */
export function nodeText(x: unknown): string | undefined {
  return isObject(x) ? text(x.$) : text(x);
}

/** Whether a URL's path ends in `.pdf` (query and fragment ignored). */
export function pdfPath(url: string): boolean {
  try {
    return new URL(url).pathname.toLowerCase().endsWith(".pdf");
  } catch {
    return false;
  }
}

/** The DOI quoted for a Lucene/Solr/Elasticsearch field query: `field:"10.1/x"`. */
export function quotedDoi(field: string, doi: string): string {
  return `${field}:"${doi.replace(/["\\]/g, "\\$&")}"`;
}
