import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContext, UsageError } from "../../src/cli/common.ts";
import { ConfigError } from "../../src/config/source.ts";
import { emptyDir } from "../support/binary.ts";

const EMPTY = emptyDir();
afterAll(() => rmSync(EMPTY, { recursive: true, force: true }));

function quietSink(isTTY = false) {
  const lines: string[] = [];
  return { lines, sink: { isTTY, write: (t: string) => void lines.push(t) } };
}

test("createContext: config from file, env and flags (global and per command), with sources", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "docstokg-ctx-"));
  try {
    writeFileSync(join(cwd, "docstokg.toml"), "[orchestrator]\nmax_workers = 8\n");
    const { sink } = quietSink();
    const ctx = await createContext(
      { "state-dir": "/srv/state", workers: "12", status: "127.0.0.1:9000", debug: true },
      {
        cwd,
        env: { DOCSTOKG_QUEUE__MAX_ATTEMPTS: "2" },
        logSink: sink,
        flags: { workers: "orchestrator.max_workers", status: "status.listen" },
      },
    );
    expect(ctx.config.state_dir).toBe("/srv/state");
    expect(ctx.config.orchestrator.max_workers).toBe(12);
    expect(ctx.config.status.listen).toBe("127.0.0.1:9000");
    expect(ctx.config.queue.max_attempts).toBe(2);
    expect(ctx.sources["orchestrator.max_workers"]).toEqual({ kind: "flag", flag: "--workers" });
    expect(ctx.configFile).toBe("docstokg.toml");
    expect(ctx.debug).toBe(true);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test("createContext: a wrong per-command flag value names the flag", async () => {
  const { sink } = quietSink();
  const run = createContext(
    { workers: "lots" },
    { cwd: EMPTY, env: {}, logSink: sink, flags: { workers: "orchestrator.max_workers" } },
  );
  await expect(run).rejects.toBeInstanceOf(ConfigError);
  await expect(run).rejects.toThrow(
    'orchestrator.max_workers: expected an integer ≥ 1, got "lots" (from --workers)',
  );
});

test("createContext: log format follows the sink (JSON when not a terminal) and the flags", async () => {
  const plain = quietSink(false);
  const ctx = await createContext({}, { cwd: EMPTY, env: {}, logSink: plain.sink });
  ctx.log.info("hello");
  expect(JSON.parse(plain.lines[0] ?? "")).toMatchObject({ level: "info", msg: "hello" });
  const quiet = quietSink(false);
  const q = await createContext({ "log-level": "warn" }, { cwd: EMPTY, env: {}, logSink: quiet.sink });
  q.log.info("hidden");
  expect(quiet.lines).toEqual([]);
  const fromEnv = quietSink(false);
  const e = await createContext(
    {},
    { cwd: EMPTY, env: { DOCSTOKG_LOG_LEVEL: "error" }, logSink: fromEnv.sink },
  );
  e.log.warn("hidden");
  expect(fromEnv.lines).toEqual([]);
});

test("createContext: bad log options are usage errors naming the flag or variable", async () => {
  const { sink } = quietSink();
  const opts = { cwd: EMPTY, env: {}, logSink: sink };
  await expect(createContext({ "log-format": "xml" }, opts)).rejects.toThrow(
    '--log-format: expected one of pretty, json, got "xml"',
  );
  await expect(createContext({}, { ...opts, env: { DOCSTOKG_LOG_LEVEL: "chatty" } })).rejects.toBeInstanceOf(
    UsageError,
  );
  await expect(createContext({ out: "" }, opts)).rejects.toThrow("--out: expected a value");
});

test("createContext: configured secrets are scrubbed from the context's log", async () => {
  const { sink, lines } = quietSink();
  const ctx = await createContext(
    {},
    { cwd: EMPTY, env: { OPENALEX_API_KEY: "oa-key-987654" }, logSink: sink },
  );
  ctx.log.info("calling https://api.openalex.org/works?api_key=oa-key-987654");
  expect(lines.join("")).not.toContain("oa-key-987654");
});
