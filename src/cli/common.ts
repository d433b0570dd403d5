// Pieces every command shares: the global flags, the context they produce, and the errors that map
// to exit codes (2 = usage/configuration, 1 = runtime failure).
import type { ArgsDef } from "citty";
import { type Config, defaultConfig } from "../config/schema.ts";

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
  out: { type: "string", description: "Library directory for obtained files [./library]", valueHint: "DIR" },
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

/** A mistake in how the program was called or configured: one line, exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A failure while doing the work: one line, exit 1. */
export class RuntimeFailure extends Error {
  override name = "RuntimeFailure";
}

export interface AppContext {
  config: Config;
}

export async function createContext(_args: Record<string, unknown>): Promise<AppContext> {
  return { config: defaultConfig() };
}

export function notAvailable(what: string): never {
  throw new RuntimeFailure(`${what} is not available in this build yet`);
}
