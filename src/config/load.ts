// Configuration precedence: defaults < config file < environment < flags. Each layer is a list of
// settings (key path, value, source); `resolveConfig` merges them, validates the result against the
// schema and reports every wrong key with where it came from. Only `loadConfig` touches the disk.
import * as v from "valibot";
import { coerceText } from "./coerce.ts";
import { envSettings, referenceVariables, withSecretFiles } from "./env.ts";
import { chooseConfigFile, readConfigFile } from "./file.ts";
import { describeExpected, formatPath, type SchemaNode, schemaAt, unwrap } from "./introspect.ts";
import { otelSettings } from "./otel-env.ts";
import { type Config, ConfigSchema, isSecretKey } from "./schema.ts";
import { ConfigError, DEFAULT_SOURCE, type Setting, type Source, sourceHint } from "./source.ts";

export const SCHEMA = ConfigSchema as unknown as SchemaNode;

export interface ResolvedConfig {
  config: Config;
  /** Where each value came from, keyed by its dotted path (`orchestrator.max_workers`). */
  sources: Record<string, Source>;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A file's content as settings: one per value, descending into tables the schema knows as tables. */
export function tableSettings(
  data: Record<string, unknown>,
  source: Source,
  prefix: string[] = [],
): Setting[] {
  const out: Setting[] = [];
  for (const [key, value] of Object.entries(data)) {
    const path = [...prefix, key];
    const node = schemaAt(SCHEMA, path);
    const kind = node ? unwrap(node).type : undefined;
    const table = kind === "strict_object" || kind === "object" || kind === "record";
    if (table && isTable(value)) out.push(...tableSettings(value, source, path));
    else out.push({ path, value, source });
  }
  return out;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isTable(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

const keyOf = (path: readonly (string | number)[]) => JSON.stringify(path.map(String));

/** The setting that decided a path: exact, else the nearest enclosing one, else one below it. */
function findSource(settings: readonly Setting[], path: readonly (string | number)[]): Source | undefined {
  const p = path.map(String);
  let best: Setting | undefined;
  for (const s of settings) {
    const prefix = s.path.length <= p.length && s.path.every((k, i) => k === p[i]);
    if (prefix && (!best || s.path.length >= best.path.length)) best = s;
  }
  if (best) return best.source;
  for (let i = settings.length - 1; i >= 0; i--) {
    const s = settings[i] as Setting;
    if (s.path.length > p.length && p.every((k, j) => k === s.path[j])) return s.source;
  }
  return undefined;
}

function formatValue(value: unknown, secret: boolean): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (secret) return Array.isArray(value) ? "a list" : `a ${typeof value}`;
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

function suggestion(path: readonly string[]): string {
  const parent = schemaAt(SCHEMA, path.slice(0, -1));
  const entries = parent ? unwrap(parent).entries : undefined;
  const key = path[path.length - 1] ?? "";
  if (!entries) return "";
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of Object.keys(entries)) {
    const d = editDistance(key, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best ? `; did you mean "${best}"?` : "";
}

/** One line per wrong key, in the order the keys appear. */
function describeIssues(issues: readonly v.BaseIssue<unknown>[], settings: readonly Setting[]): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const issue of issues) {
    const path = (issue.path ?? []).map((item) => String(item.key));
    const display = (issue.path ?? []).map((item) =>
      typeof item.key === "number" ? item.key : String(item.key),
    );
    const id = keyOf(path);
    if (seen.has(id)) continue;
    seen.add(id);
    const where = sourceHint(findSource(settings, path));
    const shown = formatPath(display) || "(top level)";
    const node = schemaAt(SCHEMA, path);
    if ((issue.type === "strict_object" && issue.expected === "never") || !node) {
      problems.push(`${shown}: unknown key${where}${suggestion(path)}`);
    } else if (issue.type === "raw_check") {
      // A semantic check (a rate of zero) words its whole problem, value included.
      problems.push(`${shown}: ${issue.message}${where}`);
    } else {
      const got = formatValue(issue.input, isSecretKey(path.join(".")));
      const expected = issue.type === "check" ? issue.message : describeExpected(node);
      problems.push(`${shown}: expected ${expected}, got ${got}${where}`);
    }
  }
  return problems;
}

/** Where each value of a validated config came from, for every key the schema defines. */
function collectSources(
  settings: readonly Setting[],
  value: unknown,
  node: SchemaNode,
  path: string[],
  out: Record<string, Source>,
) {
  const n = unwrap(node);
  if (n.entries) {
    for (const [key, child] of Object.entries(n.entries)) {
      collectSources(settings, isTable(value) ? value[key] : undefined, child, [...path, key], out);
    }
  } else if (n.type === "record" && n.value && isTable(value)) {
    for (const [key, child] of Object.entries(value))
      collectSources(settings, child, n.value, [...path, key], out);
    if (Object.keys(value).length === 0) out[formatPath(path)] = findSource(settings, path) ?? DEFAULT_SOURCE;
  } else {
    out[formatPath(path)] = findSource(settings, path) ?? DEFAULT_SOURCE;
  }
}

/** Merge settings (lowest precedence first) over the defaults and validate; throws ConfigError. */
export function resolveConfig(settings: readonly Setting[]): ResolvedConfig {
  const input: Record<string, unknown> = {};
  for (const s of settings) setPath(input, s.path, s.value);
  const result = v.safeParse(ConfigSchema, input, { abortEarly: false });
  if (!result.success) throw new ConfigError(describeIssues(result.issues, settings));
  const sources: Record<string, Source> = {};
  collectSources(settings, result.output, SCHEMA, [], sources);
  return { config: result.output, sources };
}

/** A flag's value as a setting at `path`, typed like the key (flags arrive as text). */
export function flagSetting(flag: string, path: string[], value: unknown): Setting {
  const node = schemaAt(SCHEMA, path);
  const typed = typeof value === "string" ? coerceText(value, node) : value;
  return { path, value: typed, source: { kind: "flag", flag } };
}

export interface LoadOptions {
  /** `--config`, when given. */
  configFlag?: string;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Settings from flags, applied last. */
  flags?: Setting[];
}

export interface LoadedConfig extends ResolvedConfig {
  /** The config file that was read, if any. */
  file?: string;
  /** The reference implementation's variables found in the environment and ignored. */
  ignoredVariables: string[];
}

/**
 * The effective configuration for a command: defaults < OpenTelemetry's standard variables < file <
 * environment < flags (the `telemetry.otlp_*` keys win over OTEL_ variables, as the specification has it).
 */
export async function loadConfig(options: LoadOptions): Promise<LoadedConfig> {
  // Secrets given as files (<VAR>_FILE, $CREDENTIALS_DIRECTORY) read once, here, before any layer.
  const env = withSecretFiles(options.env);
  const choice = chooseConfigFile(options.configFlag, env, options.cwd);
  const settings: Setting[] = [...otelSettings(env)];
  if (choice) {
    const data = await readConfigFile(choice.path, options.cwd);
    settings.push(...tableSettings(data, { kind: "file", file: choice.path }));
  }
  settings.push(...envSettings(env, SCHEMA));
  settings.push(...(options.flags ?? []));
  return {
    ...resolveConfig(settings),
    file: choice?.path,
    ignoredVariables: referenceVariables(env),
  };
}

/** Validate one file on its own (defaults underneath, no environment or flags): `config check`. */
export async function checkConfigFile(path: string, cwd: string): Promise<ResolvedConfig> {
  const data = await readConfigFile(path, cwd);
  return resolveConfig(tableSettings(data, { kind: "file", file: path }));
}
