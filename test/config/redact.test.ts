import { expect, test } from "bun:test";
import { formatEffectiveConfig } from "../../src/cli/config.ts";
import { flagSetting, resolveConfig } from "../../src/config/load.ts";
import { REDACTED, redactSecrets, secretValues } from "../../src/config/redact.ts";

const SECRET_ENV = [
  {
    path: ["resolvers", "semantic_scholar", "api_key"],
    value: "s2-0123456789",
    source: { kind: "env", variable: "S2_API_KEY" },
  },
  { path: ["status", "token"], value: "tok-abcdefgh", source: { kind: "file", file: "d.toml" } },
] as const;

function withSecrets() {
  return resolveConfig([
    ...SECRET_ENV.map((s) => ({ ...s, path: [...s.path], source: { ...s.source } })),
    flagSetting("--state-dir", ["state_dir"], "/srv/state"),
  ]);
}

test("redactSecrets replaces every secret key's value and nothing else", () => {
  const { config } = withSecrets();
  const redacted = redactSecrets(config);
  expect(redacted.resolvers.semantic_scholar.api_key).toBe(REDACTED);
  expect(redacted.status.token).toBe(REDACTED);
  expect(redacted.resolvers.openalex.api_key).toBeUndefined();
  expect(redacted.state_dir).toBe("/srv/state");
  expect(redacted.resolvers.semantic_scholar.base_url).toBe("https://api.semanticscholar.org/graph/v1");
  expect(config.status.token).toBe("tok-abcdefgh");
  expect(secretValues(config).sort()).toEqual(["s2-0123456789", "tok-abcdefgh"]);
});

test("config print shows every key with its source and no secret value", () => {
  const { config, sources } = withSecrets();
  const text = formatEffectiveConfig(config, sources);
  expect(text).not.toContain("s2-0123456789");
  expect(text).not.toContain("tok-abcdefgh");
  expect(text).toMatch(/^resolvers\.semantic_scholar\.api_key = "REDACTED"\s+# env S2_API_KEY$/m);
  expect(text).toMatch(/^status\.token = "REDACTED"\s+# file d\.toml$/m);
  expect(text).toMatch(/^state_dir = "\/srv\/state"\s+# flag --state-dir$/m);
  expect(text).toMatch(/^orchestrator\.max_workers = 16\s+# default$/m);
  expect(text).toMatch(/^contact_email = \(unset\)\s+# default$/m);
  expect(text.trimEnd().split("\n")).toHaveLength(Object.keys(sources).length);
});
