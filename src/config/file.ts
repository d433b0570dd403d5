// The file layer: finding the config file (--config, DOCSTOKG_CONFIG, ./docstokg.toml) and reading
// it as TOML or JSON. Syntax errors name the file and, for TOML, the line.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "./source.ts";

export const DEFAULT_CONFIG_FILE = "docstokg.toml";

export interface ConfigFileChoice {
  path: string;
  /** Whether the file was asked for explicitly (a missing one is then an error). */
  explicit: boolean;
}

/** Which config file applies: the flag, else DOCSTOKG_CONFIG, else ./docstokg.toml when present. */
export function chooseConfigFile(
  flag: string | undefined,
  env: Record<string, string | undefined>,
  cwd: string,
  exists: (path: string) => boolean = existsSync,
): ConfigFileChoice | undefined {
  if (flag) return { path: flag, explicit: true };
  if (env.DOCSTOKG_CONFIG) return { path: env.DOCSTOKG_CONFIG, explicit: true };
  const local = resolve(cwd, DEFAULT_CONFIG_FILE);
  return exists(local) ? { path: DEFAULT_CONFIG_FILE, explicit: false } : undefined;
}

/**
 * The 1-based line where a TOML document stops being valid. Bun's TOML errors carry no position,
 * so this finds the longest run of leading lines that parses; the error is on the line after it
 * (for a multi-line value, the line where that value starts).
 */
export function tomlErrorLine(text: string): number {
  const lines = text.split("\n");
  let good = 0;
  for (let n = 1; n <= lines.length; n++) {
    try {
      Bun.TOML.parse(lines.slice(0, n).join("\n"));
      good = n;
    } catch {
      // an unfinished multi-line value may still close later: keep looking
    }
  }
  return Math.min(good + 1, lines.length);
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parse config text; `name` (the file) appears in every error. */
export function parseConfigText(text: string, name: string): Record<string, unknown> {
  let data: unknown;
  if (name.toLowerCase().endsWith(".json")) {
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new ConfigError([
        `${name}: invalid JSON: ${(error as Error).message.replace(/^JSON Parse error: /, "")}`,
      ]);
    }
    if (!isTable(data)) throw new ConfigError([`${name}: expected a JSON object at the top level`]);
    return data;
  }
  try {
    data = Bun.TOML.parse(text);
  } catch (error) {
    const reason = (error as Error).message.replace(/^TOML Parse error: /, "");
    throw new ConfigError([`${name}:${tomlErrorLine(text)}: invalid TOML: ${reason}`]);
  }
  return data as Record<string, unknown>;
}

/** Read and parse a config file; a missing or unreadable file is a ConfigError naming it. */
export async function readConfigFile(path: string, cwd: string): Promise<Record<string, unknown>> {
  const file = Bun.file(resolve(cwd, path));
  let text: string;
  try {
    text = await file.text();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (error as Error).message;
    throw new ConfigError([`${path}: cannot read config file: ${why}`]);
  }
  return parseConfigText(text, path);
}
