// Canonical URL form (SPEC 2.3): the dedupe key of candidate URLs and the basis of host keys.
// The WHATWG URL parser already lowercases scheme and host, converts IDN to punycode, drops default
// ports and removes dot segments; what is left is the fragment and the http(s)-only rule.

// URLs that are canonical already (the vast majority in bulk input) skip the parser: lowercase
// scheme, a plain lowercase DNS name whose last label cannot be read as an IPv4 number, no port,
// no userinfo, a path of characters the parser leaves alone, no dot segments, no fragment.
const ALREADY_CANONICAL = /^https?:\/\/(?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*\/[A-Za-z0-9\-._~!$&()*+,;=:@/%?]*$/;
const DOT_SEGMENT = /\/\.{1,2}(?:[/?]|$)|%2e/i;

function isAlreadyCanonical(text: string): boolean {
  if (!ALREADY_CANONICAL.test(text)) return false;
  const query = text.indexOf("?");
  const path = query === -1 ? text : text.slice(0, query);
  return !DOT_SEGMENT.test(path) && !text.includes("xn--");
}

/** The canonical form of an http(s) URL, or null when `raw` is not an absolute http(s) URL. */
export function canonicalUrl(raw: string): string | null {
  const text = raw.trim();
  return isAlreadyCanonical(text) ? text : canonicalUrlSlow(text);
}

/** The same as canonicalUrl, always through the parser (the reference the fast path is tested against). */
export function canonicalUrlSlow(raw: string): string | null {
  const text = raw.trim();
  if (text === "" || !/^https?:\/\//i.test(text)) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") return null;
  url.hash = "";
  return url.href;
}

/** Host key of a URL: the canonical hostname, with the port only when it is not the default. */
export function hostKey(raw: string): string | null {
  const canonical = canonicalUrl(raw);
  return canonical === null ? null : new URL(canonical).host;
}
