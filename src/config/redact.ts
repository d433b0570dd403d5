// Keeping configured secrets out of output: `config print` shows the one redaction marker (core/redact)
// for them and the logger scrubs their values from every message.
import { REDACTED, redactUrl } from "../core/redact.ts";
import { CREDENTIAL_URL_KEYS, isSecretKey } from "./schema.ts";

export { REDACTED };

/** A deep copy of `value` with every secret key's value replaced by the redaction marker. */
export function redactSecrets<T>(value: T, path: string[] = []): T {
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, path)) as T;
  if (typeof value === "string" && CREDENTIAL_URL_KEYS.includes(path.join("."))) return redactUrl(value) as T;
  if (typeof value !== "object" || value === null) {
    return (value !== undefined && path.length > 0 && isSecretKey(path.join(".")) ? REDACTED : value) as T;
  }
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) out[key] = redactSecrets(child, [...path, key]);
  return out as T;
}

/** Every secret string in a configuration (to scrub from log lines). */
export function secretValues(value: unknown, path: string[] = []): string[] {
  if (typeof value === "string" && CREDENTIAL_URL_KEYS.includes(path.join("."))) return urlSecrets(value);
  if (typeof value === "string") return path.length > 0 && isSecretKey(path.join(".")) ? [value] : [];
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => secretValues(child, [...path, key]));
}

/** The user-info password of a URL-valued key (the logger scrubs it wherever it appears). */
function urlSecrets(url: string): string[] {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password ? [password] : [];
  } catch {
    return [];
  }
}
