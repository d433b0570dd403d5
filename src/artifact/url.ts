// Canonical URL form (SPEC 2.3): the dedupe key of candidate URLs and the basis of host keys.
// The WHATWG URL parser already lowercases scheme and host, converts IDN to punycode, drops default
// ports and removes dot segments; what is left is the fragment and the http(s)-only rule.

/** The canonical form of an http(s) URL, or null when `raw` is not an absolute http(s) URL. */
export function canonicalUrl(raw: string): string | null {
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
