// Pieces every command shares: the global flags, the context they produce (configuration with
// sources, logger), and the errors that map to exit codes (2 = usage/configuration, 1 = runtime
// failure, 130 = interrupted).
import type { ArgsDef } from "citty";
import type { ConsolaInstance } from "consola";
import { flagSetting, loadConfig } from "../config/load.ts";
import { secretValues } from "../config/redact.ts";
import type { Config } from "../config/schema.ts";
import type { Setting, Source } from "../config/source.ts";
import {
  createLogger,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevelName,
  type LogSink,
} from "./log.ts";

export const globalArgs = {
  config: {
    type: "string",
    description: "Config file (docstokg.toml or .json); env DOCSTOKG_CONFIG",
    valueHint: "FILE",
  },
  "state-dir": {
    type: "string",
    description: "State directory (queue database, manifest) [./state]",
    valueHint: "DIR",
  },
  "database-url": {
    type: "string",
    description:
      "Shared state in PostgreSQL (postgres://user@host/db; the password is never printed), for a fleet of runners; env DOCSTOKG_DATABASE_URL [empty: SQLite in the state directory]",
    valueHint: "URL",
  },
  out: {
    type: "string",
    description: "Library for obtained files: a directory, or s3://bucket/prefix [./library]",
    valueHint: "DIR|S3URL",
  },
  "log-level": {
    type: "string",
    description: "silent|error|warn|info|debug|trace [info]",
    valueHint: "LEVEL",
  },
  "log-format": {
    type: "string",
    description: "pretty|json [pretty on a TTY, json otherwise]",
    valueHint: "FORMAT",
  },
  debug: { type: "boolean", description: "Show stack traces on errors" },
} as const satisfies ArgsDef;

/** Global flags that set configuration keys. */
const GLOBAL_CONFIG_FLAGS: Record<string, string> = {
  "state-dir": "state_dir",
  "database-url": "database_url",
  out: "out_dir",
};

/** A mistake in how the program was called or configured: one line, exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A failure while doing the work: one line, exit 1. */
export class RuntimeFailure extends Error {
  override name = "RuntimeFailure";
}

/** The work stopped because of SIGINT/SIGTERM before it finished: exit 130. */
export class Interrupted extends Error {
  override name = "Interrupted";
  constructor(message = "interrupted") {
    super(message);
  }
}

export interface AppContext {
  config: Config;
  /** Where each value came from, keyed by dotted path: `{ kind: "env", variable: "DOCSTOKG_…" }`. */
  sources: Record<string, Source>;
  /** The config file that was read, if any. */
  configFile?: string;
  log: ConsolaInstance;
  debug: boolean;
}

export interface ContextOptions {
  /**
   * This command's flags that set configuration keys, flag name → dotted key path, e.g.
   * `{ workers: "orchestrator.max_workers", status: "status.listen" }`. Flag text is typed like
   * the key; a wrong value is a usage error naming the flag. `--state-dir` and `--out` are built in.
   */
  flags?: Record<string, string>;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Where logs go (default stderr); its `isTTY` picks the pretty format. */
  logSink?: LogSink & { isTTY?: boolean };
}

function pick<T extends string>(value: unknown, allowed: readonly T[], what: string, fallback: T): T {
  if (value === undefined || value === "") return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${what}: expected one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
}

/**
 * The configuration (defaults < file < environment < flags) and logger for a command. Throws
 * ConfigError or UsageError (exit 2) when something is wrong.
 */
export async function createContext(
  args: Record<string, unknown>,
  options: ContextOptions = {},
): Promise<AppContext> {
  const env = options.env ?? process.env;
  const sink = options.logSink ?? process.stderr;
  const level = pick(
    args["log-level"] ?? env.DOCSTOKG_LOG_LEVEL,
    Object.keys(LOG_LEVELS) as LogLevelName[],
    args["log-level"] !== undefined ? "--log-level" : "DOCSTOKG_LOG_LEVEL",
    "info",
  );
  const format = pick<LogFormat>(
    args["log-format"] ?? env.DOCSTOKG_LOG_FORMAT,
    LOG_FORMATS,
    args["log-format"] !== undefined ? "--log-format" : "DOCSTOKG_LOG_FORMAT",
    sink.isTTY ? "pretty" : "json",
  );
  const flags: Setting[] = [];
  for (const [flag, key] of Object.entries({ ...GLOBAL_CONFIG_FLAGS, ...options.flags })) {
    const value = args[flag];
    if (value === undefined) continue;
    if (typeof value === "string" && value === "") throw new UsageError(`--${flag}: expected a value`);
    flags.push(flagSetting(`--${flag}`, key.split("."), value));
  }
  const configFlag = typeof args.config === "string" && args.config !== "" ? args.config : undefined;
  const loaded = await loadConfig({ configFlag, env, cwd: options.cwd ?? process.cwd(), flags });
  const log = createLogger({ level, format, sink, secrets: secretValues(loaded.config) });
  if (loaded.ignoredVariables.length > 0) {
    log.warn(
      `ignoring ${loaded.ignoredVariables.join(", ")}: feature switches of the reference implementation, which docstokg does not use (remove them from the environment)`,
    );
  }
  return {
    config: loaded.config,
    sources: loaded.sources,
    configFile: loaded.file,
    log,
    debug: args.debug === true,
  };
}
