// The standard OpenTelemetry exporter variables (OTEL_EXPORTER_OTLP_*, OTEL_SERVICE_NAME, …) as the
// lowest configuration layer: under the file and the DOCSTOKG_ variables, so a `telemetry.otlp_*`
// key set anywhere wins over them, and `config print` names them as the source.
import type { Setting } from "./source.ts";
import { ConfigError } from "./source.ts";

/** The variables read, and the key each one sets (documented in the reference). */
export const OTEL_VARIABLES: ReadonlyArray<{ variable: string; key: string }> = [
  { variable: "OTEL_EXPORTER_OTLP_ENDPOINT", key: "telemetry.otlp_endpoint" },
  { variable: "OTEL_EXPORTER_OTLP_PROTOCOL", key: "telemetry.otlp_protocol" },
  { variable: "OTEL_EXPORTER_OTLP_HEADERS", key: "telemetry.otlp_headers" },
  { variable: "OTEL_EXPORTER_OTLP_TIMEOUT", key: "telemetry.otlp_timeout_s" },
  { variable: "OTEL_METRIC_EXPORT_INTERVAL", key: "telemetry.otlp_interval_s" },
  { variable: "OTEL_SERVICE_NAME", key: "telemetry.otlp_service_name" },
  { variable: "OTEL_RESOURCE_ATTRIBUTES", key: "telemetry.otlp_resource_attributes" },
];

/**
 * `key1=value1,key2=value2` as the OpenTelemetry specification writes headers and resource
 * attributes: entries trimmed, values percent-decoded. A malformed entry is an error naming the
 * variable and the entry's position, never its text (header values are credentials).
 */
export function parseKeyValueList(variable: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = text.split(",");
  entries.forEach((entry, i) => {
    if (entry.trim() === "") return;
    const eq = entry.indexOf("=");
    const key = eq > 0 ? entry.slice(0, eq).trim() : "";
    let value: string | undefined;
    try {
      value = eq > 0 ? decodeURIComponent(entry.slice(eq + 1).trim()) : undefined;
    } catch {
      value = undefined;
    }
    if (key === "" || value === undefined)
      throw new ConfigError([
        `${variable}: expected comma-separated key=value pairs (values percent-encoded), entry ${i + 1} of ${entries.length} is not one`,
      ]);
    out[key] = value;
  });
  return out;
}

/** Milliseconds as the variables give them, in seconds as the keys take them (text passes on for validation). */
function millisToSeconds(text: string): number | string {
  const n = Number(text.trim());
  return text.trim() !== "" && Number.isFinite(n) ? n / 1000 : text;
}

/** Settings from the OTEL_ variables of an environment; empty variables count as unset. */
export function otelSettings(env: Record<string, string | undefined>): Setting[] {
  const settings: Setting[] = [];
  const get = (variable: string) => {
    const text = env[variable];
    return text === undefined || text.trim() === "" ? undefined : text;
  };
  const add = (variable: string, path: string[], value: unknown) =>
    settings.push({ path, value, source: { kind: "env", variable } });
  const endpoint = get("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (endpoint) add("OTEL_EXPORTER_OTLP_ENDPOINT", ["telemetry", "otlp_endpoint"], endpoint.trim());
  const protocol = get("OTEL_EXPORTER_OTLP_PROTOCOL");
  if (protocol) add("OTEL_EXPORTER_OTLP_PROTOCOL", ["telemetry", "otlp_protocol"], protocol.trim());
  const headers = get("OTEL_EXPORTER_OTLP_HEADERS");
  if (headers) {
    // One setting per header: a header named in the file replaces only that header.
    for (const [name, value] of Object.entries(parseKeyValueList("OTEL_EXPORTER_OTLP_HEADERS", headers)))
      add("OTEL_EXPORTER_OTLP_HEADERS", ["telemetry", "otlp_headers", name.toLowerCase()], value);
  }
  const timeout = get("OTEL_EXPORTER_OTLP_TIMEOUT");
  if (timeout) add("OTEL_EXPORTER_OTLP_TIMEOUT", ["telemetry", "otlp_timeout_s"], millisToSeconds(timeout));
  const interval = get("OTEL_METRIC_EXPORT_INTERVAL");
  if (interval)
    add("OTEL_METRIC_EXPORT_INTERVAL", ["telemetry", "otlp_interval_s"], millisToSeconds(interval));
  const service = get("OTEL_SERVICE_NAME");
  if (service) add("OTEL_SERVICE_NAME", ["telemetry", "otlp_service_name"], service.trim());
  const attributes = get("OTEL_RESOURCE_ATTRIBUTES");
  if (attributes) {
    for (const [name, value] of Object.entries(parseKeyValueList("OTEL_RESOURCE_ATTRIBUTES", attributes)))
      add("OTEL_RESOURCE_ATTRIBUTES", ["telemetry", "otlp_resource_attributes", name], value);
  }
  return settings;
}
