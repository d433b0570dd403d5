// Keeping credentials out of everything docstokg writes or shows: one marker and one rule for secret
// query parameters, used by artifact ids, the manifest, outcome notes, queue output, the status API,
// `config print` and the logger. Requests still go to the URL as given; only what is recorded changes.

export const REDACTED = "REDACTED";

/**
 * Query parameter names that carry credentials (`api_key`, `access_token`, `X-Amz-Signature`,
 * `X-Amz-Credential`, …) or a contact address (`email`, `mailto`), matched on the last word of the
 * name so prefixed spellings (`s2_api_key`, `X-Amz-Security-Token`) count too.
 */
const SECRET_PARAM =
  /(?:^|[_-])(?:key|apikey|api_key|token|access_token|secret|password|passwd|pwd|sig|signature|credential|credentials|auth|email|mailto)$/i;

export function isSecretParam(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name.replaceAll("+", " "));
  } catch {
    // a malformed escape: judge the name as written
  }
  return SECRET_PARAM.test(decoded);
}

/** A query string (without `?`) with the values of secret parameters replaced; the rest kept byte for byte. */
function redactQuery(query: string): string {
  return query
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 0) return pair;
      return isSecretParam(pair.slice(0, eq)) ? `${pair.slice(0, eq + 1)}${REDACTED}` : pair;
    })
    .join("&");
}

/**
 * The URL with user-info removed and secret query values replaced, otherwise as written (the rest of
 * the query is not re-encoded, so two spellings stay two). Text that is not a URL passes unchanged.
 */
export function redactUrl(url: string): string {
  const schemeEnd = url.indexOf("://");
  if (schemeEnd < 0) return url;
  let out = url;
  const authorityStart = schemeEnd + 3;
  const authorityEnd = out.slice(authorityStart).search(/[/?#]/);
  const authority =
    authorityEnd < 0 ? out.slice(authorityStart) : out.slice(authorityStart, authorityStart + authorityEnd);
  const at = authority.lastIndexOf("@");
  if (at >= 0) out = out.slice(0, authorityStart) + out.slice(authorityStart + at + 1);
  const q = out.indexOf("?");
  if (q < 0) return out;
  const hash = out.indexOf("#", q);
  const query = hash < 0 ? out.slice(q + 1) : out.slice(q + 1, hash);
  return `${out.slice(0, q + 1)}${redactQuery(query)}${hash < 0 ? "" : out.slice(hash)}`;
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/** Every URL inside free text redacted (error messages and notes quote URLs). */
export function redactText(text: string): string {
  return text.includes("://") ? text.replace(URL_IN_TEXT, redactUrl) : text;
}

/** A copy of a JSON-like value with every URL inside its strings redacted. */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactText(value);
  if (typeof value !== "object" || value === null || depth > 16) return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth + 1);
  return out;
}

/** Whether the URL names a user or password before its host (`http://user:pw@host/`). */
export function hasUserinfo(url: URL): boolean {
  return url.username !== "" || url.password !== "";
}
