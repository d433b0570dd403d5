// Canonical form of an artifact's input links (SPEC 2.3) for import and dedupe. The rules live in
// src/core/url.ts (`canonicalUrl`, the one canonicalizer every part uses); this adds the input rules
// (http(s) only, no credentials) and a fast path for bulk input, where most URLs are canonical
// already and can skip the parser. Like `canonicalUrl`, it answers null for what it refuses.
import { hasUserinfo, redactUrl } from "../core/redact.ts";
import { parseUrl } from "../core/url.ts";

// Canonical already: lowercase scheme, a plain lowercase DNS name whose last label cannot be read as
// an IPv4 number, no port, no userinfo, a path of characters the parser leaves alone and without
// percent-escapes (those are normalized), no dot segments, no fragment.
const ALREADY_CANONICAL = /^https?:\/\/(?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*\/[A-Za-z0-9\-._~!$&()*+,;=:@/%?]*$/;
const DOT_SEGMENT = /\/\.{1,2}(?:[/?]|$)/;

function isAlreadyCanonical(text: string): boolean {
  if (!ALREADY_CANONICAL.test(text)) return false;
  const query = text.indexOf("?");
  const path = query === -1 ? text : text.slice(0, query);
  return !path.includes("%") && !DOT_SEGMENT.test(path) && !text.includes("xn--");
}

/**
 * The canonical form of an http(s) URL, or null when `raw` is not an absolute http(s) URL or names
 * a user or password (credentials would be recorded with the work: see `inputUrlProblem`).
 */
export function canonicalInputUrl(raw: string): string | null {
  const text = raw.trim();
  return isAlreadyCanonical(text) ? text : canonicalInputUrlSlow(text);
}

/**
 * Why an input URL is refused, worded for the import report without quoting a password, or null
 * when `canonicalInputUrl` accepts it.
 */
export function inputUrlProblem(raw: string): string {
  const text = raw.trim();
  const parsed = /^https?:\/\//i.test(text) ? parseUrl(text) : null;
  if (parsed?.ok && hasUserinfo(parsed.url)) {
    return `expected a URL without user name or password (credentials in a URL would be recorded with the work; give the service's token another way), got ${JSON.stringify(redactUrl(text))}`;
  }
  return `expected an absolute http(s) URL, got ${JSON.stringify(redactUrl(text))}`;
}

/** The same as canonicalInputUrl, always through the parser (the reference the fast path is tested against). */
export function canonicalInputUrlSlow(raw: string): string | null {
  const text = raw.trim();
  if (!/^https?:\/\//i.test(text)) return null;
  const parsed = parseUrl(text);
  if (!parsed.ok) return null;
  const { url } = parsed;
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") return null;
  if (hasUserinfo(url)) return null;
  return url.href;
}
