// OpenTelemetry's standard variables as the lowest configuration layer: they fill the
// telemetry.otlp_* keys, any setting of the key itself wins, header values never show in
// `config print` or in an error, and a malformed list is an error naming the variable.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatEffectiveConfig } from "../../src/cli/config.ts";
import { loadConfig } from "../../src/config/load.ts";
import { parseKeyValueList } from "../../src/config/otel-env.ts";
import { redactSecrets, secretValues } from "../../src/config/redact.ts";
import { ConfigError } from "../../src/config/source.ts";

const dirs: string[] = [];
function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "docstokg-otel-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const OTEL = {
  OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector.example:4318/base/",
  OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
  OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Bearer%20sekrit-otlp-token, x-tenant = acme",
  OTEL_EXPORTER_OTLP_TIMEOUT: "2500",
  OTEL_METRIC_EXPORT_INTERVAL: "15000",
  OTEL_SERVICE_NAME: "docstokg-eu",
  OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod,team=lib%2Cdata",
};

describe("OTEL_ variables", () => {
  test("fill the telemetry.otlp_* keys, times converted from milliseconds, values percent-decoded", async () => {
    const { config, sources } = await loadConfig({ cwd: dirWith({}), env: OTEL });
    expect(config.telemetry).toMatchObject({
      otlp_endpoint: "http://collector.example:4318/base/",
      otlp_protocol: "http/json",
      otlp_headers: { authorization: "Bearer sekrit-otlp-token", "x-tenant": "acme" },
      otlp_timeout_s: 2.5,
      otlp_interval_s: 15,
      otlp_service_name: "docstokg-eu",
      otlp_resource_attributes: { "deployment.environment": "prod", team: "lib,data" },
    });
    expect(sources["telemetry.otlp_endpoint"]).toEqual({
      kind: "env",
      variable: "OTEL_EXPORTER_OTLP_ENDPOINT",
    });
  });

  test("without them nothing is exported: the endpoint is empty", async () => {
    const { config } = await loadConfig({ cwd: dirWith({}), env: {} });
    expect(config.telemetry.otlp_endpoint).toBe("");
    expect(config.telemetry.otlp_protocol).toBe("http/protobuf");
    expect(config.telemetry.otlp_interval_s).toBe(60);
  });

  test("the config file and DOCSTOKG_ variables win over them", async () => {
    const cwd = dirWith({
      "docstokg.toml":
        '[telemetry]\notlp_endpoint = "http://file.example:4318"\notlp_protocol = "http/protobuf"\n[telemetry.otlp_headers]\nauthorization = "Bearer from-file"\n',
    });
    const env = { ...OTEL, DOCSTOKG_TELEMETRY__OTLP_INTERVAL_S: "5" };
    const { config, sources } = await loadConfig({ cwd, env });
    expect(config.telemetry.otlp_endpoint).toBe("http://file.example:4318");
    expect(config.telemetry.otlp_protocol).toBe("http/protobuf");
    expect(config.telemetry.otlp_interval_s).toBe(5);
    // Per header: the file's authorization replaces the variable's, the other header stays.
    expect(config.telemetry.otlp_headers).toEqual({ authorization: "Bearer from-file", "x-tenant": "acme" });
    expect(sources["telemetry.otlp_endpoint"]).toEqual({ kind: "file", file: "docstokg.toml" });
  });

  test("header values are secrets: redacted in config print, scrubbed from logs", async () => {
    const { config, sources } = await loadConfig({ cwd: dirWith({}), env: OTEL });
    const text = formatEffectiveConfig(config, sources);
    expect(text).not.toContain("sekrit-otlp-token");
    expect(text).not.toContain("acme");
    expect(text).toMatch(
      /^telemetry\.otlp_headers\.authorization = "REDACTED"\s+# env OTEL_EXPORTER_OTLP_HEADERS$/m,
    );
    expect(text).toMatch(/^telemetry\.otlp_endpoint = "http:\/\/collector\.example:4318\/base\/"/m);
    expect(JSON.stringify(redactSecrets(config))).not.toContain("sekrit");
    expect(secretValues(config)).toContain("Bearer sekrit-otlp-token");
  });

  test("a wrong protocol names the variable and the choices", async () => {
    try {
      await loadConfig({ cwd: dirWith({}), env: { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" } });
      throw new Error("expected a ConfigError");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toEqual([
        'telemetry.otlp_protocol: expected one of "http/protobuf", "http/json", got "grpc" (from env OTEL_EXPORTER_OTLP_PROTOCOL)',
      ]);
    }
  });

  test("an endpoint that is not an http(s) URL is refused", async () => {
    try {
      await loadConfig({ cwd: dirWith({}), env: { OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" } });
      throw new Error("expected a ConfigError");
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        'telemetry.otlp_endpoint: expected empty, or an http(s) base URL, got "collector:4318" (from env OTEL_EXPORTER_OTLP_ENDPOINT)',
      ]);
    }
  });

  test("a malformed header list is an error that never echoes the value", () => {
    expect(() => parseKeyValueList("OTEL_EXPORTER_OTLP_HEADERS", "authorization=ok,Bearer-oops")).toThrow(
      "OTEL_EXPORTER_OTLP_HEADERS: expected comma-separated key=value pairs (values percent-encoded), entry 2 of 2 is not one",
    );
    try {
      parseKeyValueList("OTEL_EXPORTER_OTLP_HEADERS", "x=%E0%A4%A");
    } catch (e) {
      expect(String(e)).not.toContain("%E0");
      return;
    }
    throw new Error("expected an error for a bad percent-encoding");
  });
});
