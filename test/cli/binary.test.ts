// The compiled binary, run as a user would: from an empty directory, with a clean environment.

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import type { ArgsDef, CommandDef } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { main } from "../../src/cli/tree.ts";
import { subCommandsOf } from "../../src/cli/usage.ts";
import { builtBinary, emptyDir, runBinary } from "../support/binary.ts";

beforeAll(async () => {
  await builtBinary();
}, 120_000);

/** Every command path of the tree: [], ["queue"], ["queue", "import"], … */
async function commandPaths(cmd: CommandDef<ArgsDef>, prefix: string[] = []): Promise<string[][]> {
  const out = [prefix];
  const subs = await subCommandsOf(cmd);
  for (const [name, sub] of Object.entries(subs ?? {})) {
    out.push(...(await commandPaths(sub as CommandDef<ArgsDef>, [...prefix, name])));
  }
  return out;
}

const oneLine = (text: string) => text.trimEnd().split("\n");

test("--version prints the version and the commit", async () => {
  const r = await runBinary(["--version"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(
    new RegExp(`^docstokg ${pkg.version.replaceAll(".", "\\.")} \\([0-9a-f]{7,}(-dirty)?\\)\\n$`),
  );
  expect(r.stderr).toBe("");
});

test("--help works for every command and shows usage and examples", async () => {
  const paths = await commandPaths(main);
  expect(paths.length).toBeGreaterThan(15);
  for (const path of paths) {
    const r = await runBinary([...path, "--help"]);
    expect({ path, code: r.code, stderr: r.stderr }).toEqual({ path, code: 0, stderr: "" });
    expect(r.stdout).toContain(`Usage: ${["docstokg", ...path].join(" ")}`);
    expect(r.stdout).toContain("Examples:\n  docstokg ");
  }
});

test("lists of subcommands show only the first line of each description", async () => {
  const r = await runBinary(["queue", "--help"]);
  const commands = r.stdout.slice(r.stdout.indexOf("Commands:"));
  expect(commands).toMatch(/\n {2}run +The main job: lease → resolve → download → record, until stopped/);
  expect(commands.split("Examples:")[0]).not.toContain("docstokg queue run --drain --workers 32");
  const own = await runBinary(["queue", "run", "--help"]);
  expect(own.stdout).toContain("docstokg queue run --drain --workers 32");
});

describe("exit codes and one-line errors", () => {
  test.each([
    [["frobnicate"], 2, 'error: unknown command "frobnicate" for "docstokg"; expected one of: queue, fetch'],
    [["queue", "frobnicate"], 2, 'error: unknown command "frobnicate" for "docstokg queue"'],
    [["queue", "stats", "--frobnicate"], 2, 'error: unknown option --frobnicate for "docstokg queue stats"'],
    [["config", "print", "--jsn"], 2, 'error: unknown option --jsn for "docstokg config print"'],
    [["queue", "import"], 2, 'error: missing required argument FILE; see "docstokg queue import --help"'],
    [
      ["config", "print", "--log-level", "loud"],
      2,
      "error: --log-level: expected one of silent, error, warn",
    ],
    [["queue", "list", "--state"], 2, "error: option --state needs a value"],
    [
      ["queue", "pause", "--state-dir", "/dev/null/state"],
      1,
      "error: cannot open the queue database in /dev/null/state: ENOTDIR",
    ],
    [["queue", "stats", "--state-dir", "/dev/null/state"], 1, "error: no queue database in /dev/null/state"],
  ])("%p → exit %d", async (args, code, message) => {
    const r = await runBinary(args);
    expect(r.code).toBe(code);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toStartWith(message);
    expect(r.stderr).not.toContain("    at ");
  });

  test("a group without a command shows its help and exits 2", async () => {
    const r = await runBinary(["queue"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage: docstokg queue <command>");
    expect(r.stderr.trimEnd()).toEndWith('error: missing command for "docstokg queue"');
  });

  test("--debug adds the stack trace, mapped to the sources", async () => {
    const r = await runBinary(["queue", "pause", "--state-dir", "/dev/null/state", "--debug"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith("error: cannot open the queue database in /dev/null/state");
    expect(r.stderr).toContain("RuntimeFailure: cannot open the queue database");
    expect(r.stderr).toMatch(/ {4}at .*src\/cli\/queue\.ts:\d+/);
  });

  test("global options work before the command words", async () => {
    const r = await runBinary(["--state-dir", "/srv/s", "config", "print", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.config.state_dir).toBe("/srv/s");
    expect(out.sources.state_dir).toBe("flag --state-dir");
  });
});

describe("config commands", () => {
  let dir: string;
  beforeAll(() => {
    dir = emptyDir();
    writeFileSync(
      join(dir, "good.toml"),
      '[orchestrator]\nmax_workers = 4\n[status]\ntoken = "tok-s3cret-value"\n',
    );
    writeFileSync(
      join(dir, "bad.toml"),
      '[orchestrator]\nmax_workers = 0\nmax_wrkers = 2\n[politeness.rates]\nmetadata = "fast"\n',
    );
    writeFileSync(join(dir, "broken.toml"), "[queue]\nmax_attempts = \n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("config check: ok for a good file", async () => {
    const r = await runBinary(["config", "check", "good.toml"], { cwd: dir });
    expect(r).toMatchObject({ code: 0, stdout: "ok: good.toml\n", stderr: "" });
  });

  test("config check: every problem, one line each, exit 2", async () => {
    const r = await runBinary(["config", "check", "bad.toml"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual([
      "error: orchestrator.max_workers: expected an integer ≥ 1, got 0 (in bad.toml)",
      'error: orchestrator.max_wrkers: unknown key (in bad.toml); did you mean "max_workers"?',
      'error: politeness.rates.metadata: expected a rate like "2/s", "1/3s", "100/min" or "1 per 3 s", got "fast" (in bad.toml)',
    ]);
  });

  test("what the runner would refuse: config check and queue run both exit 2 naming each key", async () => {
    writeFileSync(
      join(dir, "runner.toml"),
      '[politeness.rates]\nmetadata = "0/s"\nlanding = "1/0s"\n[network]\nallow_private = ["10.0.0.0/33"]\nconnect_timeout_s = inf\n',
    );
    const expected = [
      'error: politeness.rates.metadata: expected a usable rate: "0/s" allows no requests; the count must be above 0 (in runner.toml)',
      'error: politeness.rates.landing: expected a usable rate: "1/0s" has an empty period; it must be above 0 (in runner.toml)',
      'error: network.allow_private[0]: expected a CIDR like "127.0.0.0/8" or "fc00::/7", got "10.0.0.0/33" (in runner.toml)',
      "error: network.connect_timeout_s: expected a number ≥ 0.01 and ≤ 2147483, got Infinity (in runner.toml)",
    ];
    const check = await runBinary(["config", "check", "runner.toml"], { cwd: dir });
    expect({ code: check.code, lines: oneLine(check.stderr) }).toEqual({ code: 2, lines: expected });
    const run = await runBinary(["queue", "run", "--config", "runner.toml", "--state-dir", "st", "--drain"], {
      cwd: dir,
    });
    expect({ code: run.code, lines: oneLine(run.stderr) }).toEqual({ code: 2, lines: expected });
  });

  test("a reference state directory: its queue under its own name is converted and its ENABLE switches ignored, each said once", async () => {
    mkdirSync(join(dir, "ref"), { recursive: true });
    const ref = new Database(join(dir, "ref", "workqueue.sqlite"), { create: true });
    ref.run(
      "CREATE TABLE jobs (id INTEGER PRIMARY KEY, artifact_id TEXT NOT NULL UNIQUE, artifact_json TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, lease_expires_at TEXT, worker_id TEXT)",
    );
    const t = "2025-10-21T12:00:00+00:00";
    ref
      .query(
        "INSERT INTO jobs VALUES (1, 'doi:10.1/a', '{\"doi\":\"10.1/a\"}', 'queued', 0, ?1, ?1, NULL, NULL)",
      )
      .run(t);
    ref
      .query(
        "INSERT INTO jobs VALUES (2, 'doi:10.1/b', '{\"doi\":\"10.1/b\"}', 'done', 1, ?1, ?1, NULL, NULL)",
      )
      .run(t);
    ref.close();
    const env = {
      PATH: process.env.PATH ?? "/usr/bin",
      DOCSTOKG_ENABLE_IDEMPOTENCY: "1",
      DOCSTOKG_ENABLE_FALLBACK_STRATEGY: "true",
    };
    const r = await runBinary(["queue", "stats", "--json", "--state-dir", "ref", "--log-format", "json"], {
      cwd: dir,
      env,
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ total: 2 });
    const lines = oneLine(r.stderr);
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: "warn",
      msg: expect.stringContaining("ignoring DOCSTOKG_ENABLE_FALLBACK_STRATEGY, DOCSTOKG_ENABLE_IDEMPOTENCY"),
    });
    expect(lines[1]).toBe(
      `warning: found the reference implementation's queue ref/workqueue.sqlite and converted a copy of it into ref/queue.db; the original is left as it was`,
    );
    const again = await runBinary(["queue", "stats", "--json", "--state-dir", "ref"], { cwd: dir });
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: "" });
  });

  test("config check: TOML syntax error names file and line", async () => {
    const r = await runBinary(["config", "check", "broken.toml"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith("error: broken.toml:2: invalid TOML: ");
  });

  test("config print: sources from file, env and flag; secrets redacted", async () => {
    const env = {
      PATH: process.env.PATH ?? "/usr/bin",
      DOCSTOKG_QUEUE__MAX_ATTEMPTS: "7",
      S2_API_KEY: "s2-very-secret",
    };
    const r = await runBinary(["config", "print", "--config", "good.toml", "--out", "/lib"], {
      cwd: dir,
      env,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^orchestrator\.max_workers = 4 +# file good\.toml$/m);
    expect(r.stdout).toMatch(/^queue\.max_attempts = 7 +# env DOCSTOKG_QUEUE__MAX_ATTEMPTS$/m);
    expect(r.stdout).toMatch(/^out_dir = "\/lib" +# flag --out$/m);
    expect(r.stdout).toMatch(/^resolvers\.semantic_scholar\.api_key = "REDACTED" +# env S2_API_KEY$/m);
    expect(r.stdout).toMatch(/^status\.token = "REDACTED" +# file good\.toml$/m);
    expect(r.stdout + r.stderr).not.toContain("s2-very-secret");
    expect(r.stdout + r.stderr).not.toContain("tok-s3cret-value");
  });

  test("a wrong environment value stops any command with exit 2 naming the variable", async () => {
    const env = { PATH: process.env.PATH ?? "/usr/bin", DOCSTOKG_ORCHESTRATOR__MAX_WORKERS: "abc" };
    const r = await runBinary(["config", "print"], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'error: orchestrator.max_workers: expected an integer ≥ 1, got "abc" (from env DOCSTOKG_ORCHESTRATOR__MAX_WORKERS)\n',
    );
  });

  test("config schema prints JSON Schema; --markdown the reference", async () => {
    const r = await runBinary(["config", "schema"]);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.properties.orchestrator.properties.max_workers.type).toBe("integer");
    const md = await runBinary(["config", "schema", "--markdown"]);
    expect(md.stdout).toContain("| `orchestrator.max_workers` | an integer ≥ 1 | `16` |");
  });
});

test("the binary ignores .env and bunfig.toml in its working directory", async () => {
  const dir = emptyDir();
  try {
    writeFileSync(join(dir, ".env"), "DOCSTOKG_STATE_DIR=/from/dotenv\n");
    writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./missing-preload.ts"]\n');
    const r = await runBinary(["config", "print", "--json"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).config.state_dir).toBe("./state");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("SIGINT while a command works exits 130", async () => {
  const dir = emptyDir();
  const fifo = join(dir, "config.toml");
  try {
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const proc = Bun.spawn([await builtBinary(), "config", "check", fifo], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin" },
      stdout: "pipe",
      stderr: "pipe",
    });
    // Opening the write end completes once the binary has opened the read end: it is now waiting.
    const writer = await open(fifo, "w");
    proc.kill("SIGINT");
    const code = await proc.exited;
    await writer.close();
    expect(code).toBe(130);
    expect(await new Response(proc.stderr).text()).toBe("error: interrupted (SIGINT)\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
