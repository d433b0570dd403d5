// Keeping configured secrets out of output: `config print` shows the one redaction marker (core/redact)
// for them and the logger scrubs their values from every message.
import { REDACTED } from "../core/redact.ts";
import { isSecretKey } from "./schema.ts";

export { REDACTED };

/** A deep copy of `value` with every secret key's value replaced by the redaction marker. */
export function redactSecrets<T>(value: T, path: string[] = []): T {
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, path)) as T;
  if (typeof value !== "object" || value === null) {
    return (value !== undefined && path.length > 0 && isSecretKey(path.join(".")) ? REDACTED : value) as T;
  }
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) out[key] = redactSecrets(child, [...path, key]);
  return out as T;
}

/** Every secret string in a configuration (to scrub from log lines). */
export function secretValues(value: unknown, path: string[] = []): string[] {
  if (typeof value === "string") return path.length > 0 && isSecretKey(path.join(".")) ? [value] : [];
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => secretValues(child, [...path, key]));
}
