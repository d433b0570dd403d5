import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkConfigFile, flagSetting, loadConfig, resolveConfig } from "../../src/config/load.ts";
import { defaultConfig } from "../../src/config/schema.ts";
import { ConfigError, describeSource } from "../../src/config/source.ts";

const dirs: string[] = [];
function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "docstokg-config-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function problemsOf(run: () => Promise<unknown>): Promise<string[]> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("precedence: defaults < file < environment < flags", () => {
  const file = "[orchestrator]\nmax_workers = 8\nlease_batch = 32\n";

  test("defaults alone equal defaultConfig() and every source says default", () => {
    const { config, sources } = resolveConfig([]);
    expect(config).toEqual(defaultConfig());
    expect(Object.values(sources).every((s) => s.kind === "default")).toBe(true);
    expect(sources["orchestrator.max_workers"]).toEqual({ kind: "default" });
  });

  test("a file overrides the default", async () => {
    const cwd = dirWith({ "docstokg.toml": file });
    const { config, sources } = await loadConfig({ cwd, env: {} });
    expect(config.orchestrator.max_workers).toBe(8);
    expect(config.orchestrator.shutdown_grace_s).toBe(30);
    expect(sources["orchestrator.max_workers"]).toEqual({ kind: "file", file: "docstokg.toml" });
  });

  test("the environment overrides the file", async () => {
    const cwd = dirWith({ "docstokg.toml": file });
    const env = { DOCSTOKG_ORCHESTRATOR__MAX_WORKERS: "32" };
    const { config, sources } = await loadConfig({ cwd, env });
    expect(config.orchestrator.max_workers).toBe(32);
    expect(config.orchestrator.lease_batch).toBe(32);
    expect(describeSource(sources["orchestrator.max_workers"] ?? { kind: "default" })).toBe(
      "env DOCSTOKG_ORCHESTRATOR__MAX_WORKERS",
    );
    expect(sources["orchestrator.lease_batch"]).toEqual({ kind: "file", file: "docstokg.toml" });
  });

  test("a flag overrides the environment", async () => {
    const cwd = dirWith({ "docstokg.toml": file });
    const env = { DOCSTOKG_ORCHESTRATOR__MAX_WORKERS: "32", DOCSTOKG_STATE_DIR: "/from/env" };
    const flags = [
      flagSetting("--workers", ["orchestrator", "max_workers"], "64"),
      flagSetting("--state-dir", ["state_dir"], "/from/flag"),
    ];
    const { config, sources } = await loadConfig({ cwd, env, flags });
    expect(config.orchestrator.max_workers).toBe(64);
    expect(config.state_dir).toBe("/from/flag");
    expect(sources["orchestrator.max_workers"]).toEqual({ kind: "flag", flag: "--workers" });
    expect(sources.state_dir).toEqual({ kind: "flag", flag: "--state-dir" });
  });

  test("--config beats DOCSTOKG_CONFIG, which beats ./docstokg.toml", async () => {
    const cwd = dirWith({
      "docstokg.toml": 'state_dir = "local"\n',
      "env.toml": 'state_dir = "from-env-file"\n',
      "flag.json": '{"state_dir": "from-flag-file"}',
    });
    expect((await loadConfig({ cwd, env: {} })).config.state_dir).toBe("local");
    const viaEnv = await loadConfig({ cwd, env: { DOCSTOKG_CONFIG: "env.toml" } });
    expect(viaEnv.config.state_dir).toBe("from-env-file");
    expect(viaEnv.file).toBe("env.toml");
    const viaFlag = await loadConfig({ cwd, env: { DOCSTOKG_CONFIG: "env.toml" }, configFlag: "flag.json" });
    expect(viaFlag.config.state_dir).toBe("from-flag-file");
    expect(viaFlag.sources.state_dir).toEqual({ kind: "file", file: "flag.json" });
  });

  test("without any file the configuration is the defaults plus the environment", async () => {
    const cwd = dirWith({});
    const { config, file } = await loadConfig({ cwd, env: { DOCSTOKG_QUEUE__MAX_ATTEMPTS: "9" } });
    expect(file).toBeUndefined();
    expect(config.queue.max_attempts).toBe(9);
  });
});

describe("environment variables", () => {
  test("values are typed like their keys: numbers, booleans, lists, nested keys", async () => {
    const env = {
      DOCSTOKG_POLITENESS__ROBOTS: "false",
      DOCSTOKG_DOWNLOAD__ACCEPT_XML: "yes",
      DOCSTOKG_NETWORK__ALLOW_PRIVATE: "127.0.0.0/8, ::1/128",
      DOCSTOKG_RESOLVERS__TIERS: '[["direct"],["unpaywall","crossref"]]',
      DOCSTOKG_POLITENESS__RATES__ARTIFACT: "1/3s",
      DOCSTOKG_QUEUE__HEARTBEAT_S: "2.5",
    };
    const { config } = await loadConfig({ cwd: dirWith({}), env });
    expect(config.politeness.robots).toBe(false);
    expect(config.download.accept_xml).toBe(true);
    expect(config.network.allow_private).toEqual(["127.0.0.0/8", "::1/128"]);
    expect(config.resolvers.tiers).toEqual([["direct"], ["unpaywall", "crossref"]]);
    expect(config.politeness.rates.artifact).toBe("1/3s");
    expect(config.queue.heartbeat_s).toBe(2.5);
  });

  test("credential variables fill their keys; DOCSTOKG_CONTACT_EMAIL wins over UNPAYWALL_EMAIL", async () => {
    const env = {
      UNPAYWALL_EMAIL: "lib@example.org",
      S2_API_KEY: "s2-secret",
      OPENALEX_API_KEY: "oa-secret",
      NCBI_API_KEY: "ncbi-secret",
    };
    const first = await loadConfig({ cwd: dirWith({}), env });
    expect(first.config.contact_email).toBe("lib@example.org");
    expect(first.config.resolvers.semantic_scholar.api_key).toBe("s2-secret");
    expect(first.config.resolvers.openalex.api_key).toBe("oa-secret");
    expect(first.config.resolvers.pmc.api_key).toBe("ncbi-secret");
    expect(first.sources["resolvers.semantic_scholar.api_key"]).toEqual({
      kind: "env",
      variable: "S2_API_KEY",
    });
    const second = await loadConfig({
      cwd: dirWith({}),
      env: { ...env, DOCSTOKG_CONTACT_EMAIL: "ops@example.org" },
    });
    expect(second.config.contact_email).toBe("ops@example.org");
  });

  test("empty variables count as unset; reserved DOCSTOKG_ variables are not keys", async () => {
    const env = {
      DOCSTOKG_STATE_DIR: "",
      S2_API_KEY: "",
      DOCSTOKG_LOG_LEVEL: "debug",
      DOCSTOKG_LOG_FORMAT: "json",
    };
    const { config } = await loadConfig({ cwd: dirWith({}), env });
    expect(config.state_dir).toBe("./state");
    expect(config.resolvers.semantic_scholar.api_key).toBeUndefined();
  });

  test("a per-host table from the file and a nested key from the environment merge", async () => {
    const cwd = dirWith({
      "docstokg.toml": '[politeness.hosts."arxiv.org"]\nrate = "1/3s"\nmax_concurrent = 1\n',
    });
    const { config, sources } = await loadConfig({ cwd, env: { DOCSTOKG_POLITENESS__MAX_PER_HOST: "2" } });
    expect(config.politeness.hosts["arxiv.org"]).toEqual({ rate: "1/3s", max_concurrent: 1 });
    expect(config.politeness.max_per_host).toBe(2);
    expect(sources['politeness.hosts."arxiv.org".rate']).toEqual({ kind: "file", file: "docstokg.toml" });
  });
});

describe("errors name the key, the value, what was expected and where it came from", () => {
  test("missing file named by --config or DOCSTOKG_CONFIG", async () => {
    const cwd = dirWith({});
    expect(await problemsOf(() => loadConfig({ cwd, env: {}, configFlag: "nope.toml" }))).toEqual([
      "nope.toml: cannot read config file: no such file",
    ]);
    expect(await problemsOf(() => loadConfig({ cwd, env: { DOCSTOKG_CONFIG: "gone.json" } }))).toEqual([
      "gone.json: cannot read config file: no such file",
    ]);
  });

  test("a TOML syntax error names the file and the line", async () => {
    const cwd = dirWith({ "docstokg.toml": '# comment\nstate_dir = "x"\n\n[queue]\nmax_attempts = = 3\n' });
    const [problem, ...rest] = await problemsOf(() => loadConfig({ cwd, env: {} }));
    expect(rest).toEqual([]);
    expect(problem).toStartWith("docstokg.toml:5: invalid TOML: ");
  });

  test("a duplicate TOML key is reported on its line", async () => {
    const cwd = dirWith({ "c.toml": "[queue]\nmax_attempts = 3\nlease_ttl_s = 10\nmax_attempts = 4\n" });
    const [problem] = await problemsOf(() => loadConfig({ cwd, env: {}, configFlag: "c.toml" }));
    expect(problem).toStartWith("c.toml:4: invalid TOML: ");
    expect(problem).toContain("max_attempts");
  });

  test("invalid JSON and a JSON file that is not an object", async () => {
    const cwd = dirWith({ "a.json": '{"state_dir": "x",}', "b.json": "[1, 2]" });
    const [bad] = await problemsOf(() => loadConfig({ cwd, env: {}, configFlag: "a.json" }));
    expect(bad).toStartWith("a.json: invalid JSON: ");
    expect(await problemsOf(() => loadConfig({ cwd, env: {}, configFlag: "b.json" }))).toEqual([
      "b.json: expected a JSON object at the top level",
    ]);
  });

  test("unknown keys in a file, with a suggestion for a near miss", async () => {
    const cwd = dirWith({ "docstokg.toml": "colour = 1\n[queue]\nmax_atempts = 3\n" });
    expect(await problemsOf(() => loadConfig({ cwd, env: {} }))).toEqual([
      'queue.max_atempts: unknown key (in docstokg.toml); did you mean "max_attempts"?',
      "colour: unknown key (in docstokg.toml)",
    ]);
  });

  test("an unknown DOCSTOKG_ variable is an error naming the variable", async () => {
    const env = { DOCSTOKG_ORCHESTRATOR__MAX_WORKER: "4" };
    expect(await problemsOf(() => loadConfig({ cwd: dirWith({}), env }))).toEqual([
      'orchestrator.max_worker: unknown key (from env DOCSTOKG_ORCHESTRATOR__MAX_WORKER); did you mean "max_workers"?',
    ]);
  });

  test("the reference implementation's DOCSTOKG_ENABLE_* switches are ignored and listed, not errors", async () => {
    const env = {
      DOCSTOKG_ENABLE_STREAMING: "1",
      DOCSTOKG_ENABLE_IDEMPOTENCY: "true",
      DOCSTOKG_QUEUE__MAX_ATTEMPTS: "7",
    };
    const loaded = await loadConfig({ cwd: dirWith({}), env });
    expect(loaded.ignoredVariables).toEqual(["DOCSTOKG_ENABLE_IDEMPOTENCY", "DOCSTOKG_ENABLE_STREAMING"]);
    expect(loaded.config.queue.max_attempts).toBe(7);
    // Other unknown variables are still errors.
    expect(
      await problemsOf(() => loadConfig({ cwd: dirWith({}), env: { ...env, DOCSTOKG_ENABLED: "1" } })),
    ).toEqual(["enabled: unknown key (from env DOCSTOKG_ENABLED)"]);
  });

  test("wrong type from a file", async () => {
    const cwd = dirWith({
      "docstokg.toml": '[orchestrator]\nmax_workers = "many"\n[politeness]\nrobots = "sometimes"\n',
    });
    expect(await problemsOf(() => loadConfig({ cwd, env: {} }))).toEqual([
      'orchestrator.max_workers: expected an integer ≥ 1, got "many" (in docstokg.toml)',
      'politeness.robots: expected true or false, got "sometimes" (in docstokg.toml)',
    ]);
  });

  test("wrong value from the environment names the variable", async () => {
    const env = { DOCSTOKG_ORCHESTRATOR__MAX_WORKERS: "abc", DOCSTOKG_QUEUE__LEASE_TTL_S: "0" };
    expect(await problemsOf(() => loadConfig({ cwd: dirWith({}), env }))).toEqual([
      "queue.lease_ttl_s: expected a number ≥ 1 and ≤ 2147483, got 0 (from env DOCSTOKG_QUEUE__LEASE_TTL_S)",
      'orchestrator.max_workers: expected an integer ≥ 1, got "abc" (from env DOCSTOKG_ORCHESTRATOR__MAX_WORKERS)',
    ]);
  });

  test("wrong value from a flag names the flag", async () => {
    const flags = [flagSetting("--workers", ["orchestrator", "max_workers"], "1.5")];
    expect(await problemsOf(() => loadConfig({ cwd: dirWith({}), env: {}, flags }))).toEqual([
      "orchestrator.max_workers: expected an integer ≥ 1, got 1.5 (from --workers)",
    ]);
  });

  test("a bad rate string, including one inside a per-host table", async () => {
    const cwd = dirWith({
      "docstokg.toml":
        '[politeness.rates]\nmetadata = "fast"\n[politeness.hosts."arxiv.org"]\nrate = "1 every 3s"\n',
    });
    const expected = 'expected a rate like "2/s", "1/3s", "100/min" or "1 per 3 s"';
    expect(await problemsOf(() => loadConfig({ cwd, env: {} }))).toEqual([
      `politeness.rates.metadata: ${expected}, got "fast" (in docstokg.toml)`,
      `politeness.hosts."arxiv.org".rate: ${expected}, got "1 every 3s" (in docstokg.toml)`,
    ]);
  });

  test("every problem is reported at once, across file and environment", async () => {
    const cwd = dirWith({ "docstokg.toml": "[download]\nmax_bytes = -1\n" });
    const env = { DOCSTOKG_CONTACT_EMAIL: "not-an-email", DOCSTOKG_RESOLVERS__TIERS: '[["direct","ftp"]]' };
    const problems = await problemsOf(() => loadConfig({ cwd, env }));
    expect(problems).toEqual([
      'contact_email: expected an email address, got "not-an-email" (from env DOCSTOKG_CONTACT_EMAIL)',
      "download.max_bytes: expected an integer ≥ 1, got -1 (in docstokg.toml)",
      expect.stringMatching(
        /^resolvers\.tiers\[0\]\[1\]: expected one of "direct", .*"wayback", got "ftp" \(from env DOCSTOKG_RESOLVERS__TIERS\)$/,
      ),
    ]);
  });

  test("a wrong secret is described by its type, never echoed", async () => {
    const cwd = dirWith({ "docstokg.toml": "[status]\ntoken = 12345678\n" });
    const [problem] = await problemsOf(() => loadConfig({ cwd, env: {} }));
    expect(problem).toBe("status.token: expected a non-empty string, got a number (in docstokg.toml)");
  });

  test("a table where a value belongs, and a value where a table belongs", async () => {
    const cwd = dirWith({ "docstokg.toml": 'queue = "fast"\n[state_dir]\nx = 1\n' });
    expect(await problemsOf(() => loadConfig({ cwd, env: {} }))).toEqual([
      'state_dir: expected a non-empty string, got {"x":1} (in docstokg.toml)',
      'queue: expected a table of settings, got "fast" (in docstokg.toml)',
    ]);
  });
});

describe("what the runner would refuse is refused by the schema", () => {
  test("rates that allow nothing, have an empty period or are slower than a day", async () => {
    const cwd = dirWith({
      "docstokg.toml": [
        "[politeness.rates]",
        'metadata = "0/s"',
        'landing = "1/0s"',
        'artifact = "1/25h"',
        '[politeness.hosts."arxiv.org"]',
        'rate = "0 per 3 s"',
        '[politeness.hosts."x.example".roles]',
        'metadata = "0.0/min"',
      ].join("\n"),
    });
    expect(await problemsOf(() => checkConfigFile("docstokg.toml", cwd))).toEqual([
      'politeness.rates.metadata: expected a usable rate: "0/s" allows no requests; the count must be above 0 (in docstokg.toml)',
      'politeness.rates.landing: expected a usable rate: "1/0s" has an empty period; it must be above 0 (in docstokg.toml)',
      'politeness.rates.artifact: expected a usable rate: "1/25h" is slower than one request a day; expected at least "1/24h" (in docstokg.toml)',
      'politeness.hosts."arxiv.org".rate: expected a usable rate: "0 per 3 s" allows no requests; the count must be above 0 (in docstokg.toml)',
      'politeness.hosts."x.example".roles.metadata: expected a usable rate: "0.0/min" allows no requests; the count must be above 0 (in docstokg.toml)',
    ]);
    // The slowest and a fractional rate still pass.
    const ok = dirWith({ "docstokg.toml": '[politeness.rates]\nmetadata = "1/24h"\nlanding = "0.5/s"\n' });
    expect((await checkConfigFile("docstokg.toml", ok)).config.politeness.rates.metadata).toBe("1/24h");
  });

  test("malformed CIDRs in network.allow_private, from a file and from the environment", async () => {
    const cwd = dirWith({
      "docstokg.toml":
        '[network]\nallow_private = ["127.0.0.0/8", "10.0.0.0/33", "fc00::/7", "nonsense", "1.2.3.4/8/9"]\n',
    });
    const cidr = 'expected a CIDR like "127.0.0.0/8" or "fc00::/7"';
    expect(await problemsOf(() => loadConfig({ cwd, env: {} }))).toEqual([
      `network.allow_private[1]: ${cidr}, got "10.0.0.0/33" (in docstokg.toml)`,
      `network.allow_private[3]: ${cidr}, got "nonsense" (in docstokg.toml)`,
      `network.allow_private[4]: ${cidr}, got "1.2.3.4/8/9" (in docstokg.toml)`,
    ]);
    const env = { DOCSTOKG_NETWORK__ALLOW_PRIVATE: "127.0.0.1,300.1.1.1/8" };
    expect(await problemsOf(() => loadConfig({ cwd: dirWith({}), env }))).toEqual([
      `network.allow_private[1]: ${cidr}, got "300.1.1.1/8" (from env DOCSTOKG_NETWORK__ALLOW_PRIVATE)`,
    ]);
  });

  test("durations a timer cannot wait (2^31 ms or more, inf) are refused; ages may be longer", async () => {
    const cwd = dirWith({
      "docstokg.toml": [
        "[network]",
        "connect_timeout_s = inf",
        "total_timeout_s = 2147484",
        "cache_ttl_s = 5000000",
        "[download]",
        "job_budget_s = 1e12",
        "[queue]",
        "heartbeat_s = 2147483",
      ].join("\n"),
    });
    expect(await problemsOf(() => checkConfigFile("docstokg.toml", cwd))).toEqual([
      "network.connect_timeout_s: expected a number ≥ 0.01 and ≤ 2147483, got Infinity (in docstokg.toml)",
      "network.total_timeout_s: expected a number ≥ 0.01 and ≤ 2147483, got 2147484 (in docstokg.toml)",
      "download.job_budget_s: expected a number ≥ 1 and ≤ 2147483, got 1000000000000 (in docstokg.toml)",
    ]);
    const env = { DOCSTOKG_NETWORK__IDLE_TIMEOUT_S: "Infinity" };
    expect(await problemsOf(() => loadConfig({ cwd: dirWith({}), env }))).toEqual([
      'network.idle_timeout_s: expected a number ≥ 0.01 and ≤ 2147483, got "Infinity" (from env DOCSTOKG_NETWORK__IDLE_TIMEOUT_S)',
    ]);
  });
});

describe("config check", () => {
  test("validates the file alone: the environment does not mask or add problems", async () => {
    const cwd = dirWith({
      "ok.toml": "[orchestrator]\nmax_workers = 4\n",
      "bad.toml": "[orchestrator]\nmax_workers = 0\n",
    });
    const { config } = await checkConfigFile("ok.toml", cwd);
    expect(config.orchestrator.max_workers).toBe(4);
    expect(await problemsOf(() => checkConfigFile("bad.toml", cwd))).toEqual([
      "orchestrator.max_workers: expected an integer ≥ 1, got 0 (in bad.toml)",
    ]);
  });
});
