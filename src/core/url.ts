// Canonical URLs and host keys (SPEC 2.3): the dedupe key of a candidate and the key every
// politeness limit, robots cache and breaker is kept under. Pure functions over WHATWG URL parsing,
// which already lowercases scheme and host, converts IDN to punycode and removes dot segments.

export type ParsedUrl = { ok: true; url: URL } | { ok: false; message: string };

const DEFAULT_PORTS: Record<string, string> = { "http:": "80", "https:": "443" };
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Parse `input` (absolute, or relative to `base`) into its canonical form; errors name the input. */
export function parseUrl(input: string, base?: string): ParsedUrl {
  let url: URL;
  try {
    url = base === undefined ? new URL(input.trim()) : new URL(input.trim(), base);
  } catch {
    const where = base === undefined ? "" : ` relative to ${JSON.stringify(base)}`;
    return { ok: false, message: `${JSON.stringify(input)} is not a valid URL${where}` };
  }
  // Each setter makes the URL serialize itself again: only what needs a change is set (every
  // request of the HTTP client parses its URL).
  const protocol = url.protocol;
  if (protocol === "http:" || protocol === "https:") {
    const hostname = url.hostname;
    if (hostname.endsWith(".") && !hostname.startsWith("[")) url.hostname = hostname.replace(/\.+$/, "");
    if (url.port === DEFAULT_PORTS[protocol]) url.port = "";
    const path = url.pathname;
    if (path.includes("%")) {
      const normal = normalizePercentEncoding(path);
      if (normal !== path) url.pathname = normal;
    }
  }
  if (url.hash !== "") url.hash = "";
  return { ok: true, url };
}

/**
 * The canonical string of `input` (see `parseUrl`), or null when it does not parse. Any scheme: the
 * input rules (http(s) only, no credentials) are src/artifact/url.ts `canonicalInputUrl`.
 */
export function canonicalUrl(input: string, base?: string): string | null {
  const p = parseUrl(input, base);
  return p.ok ? p.url.href : null;
}

/** Host key: canonical hostname, with `:port` only when the port is not the scheme's default. */
export function hostKey(url: URL | string): string {
  const u = typeof url === "string" ? parseUrl(url) : { ok: true as const, url };
  if (!u.ok) throw new TypeError(u.message);
  const hostname = u.url.hostname;
  const host = hostname.endsWith(".") ? hostname.replace(/\.+$/, "") : hostname;
  const port = u.url.port;
  return port && port !== DEFAULT_PORTS[u.url.protocol] ? `${host}:${port}` : host;
}

/** `scheme://host[:port]`: the unit robots.txt applies to. */
export function originOf(url: URL): string {
  return `${url.protocol}//${hostKey(url)}`;
}

/**
 * RFC 3986 6.2.2.2: percent-escapes of unreserved characters are decoded, the rest get uppercase
 * hex, so `/%7euser/%2f` and `/~user/%2F` are one key. Only the path: the query is kept as sent.
 */
export function normalizePercentEncoding(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const ch = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}
