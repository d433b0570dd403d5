// Running a command line: find the command, answer --help/--version, reject unknown flags (citty
// ignores them), run it, and turn whatever it throws into one line on stderr and an exit code.
import { stripVTControlCharacters } from "node:util";
import { type ArgsDef, type CommandDef, runCommand } from "citty";
import { ConfigError } from "../config/source.ts";
import { versionLine } from "../version.ts";
import { globalArgs, UsageError } from "./common.ts";
import {
  aliasesOf,
  type CommandStep,
  commandArgs,
  commandMeta,
  renderUsage,
  subCommandsOf,
} from "./usage.ts";

export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/** The arguments before `--` (after it everything is a positional). */
function optionPart(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf("--");
  return end < 0 ? argv : argv.slice(0, end);
}

const globalValueFlags = new Set(
  Object.entries(globalArgs)
    .filter(([, def]) => def.type === "string")
    .map(([name]) => `--${name}`),
);

/**
 * Walk the command tree along the words of `argv`. Global flags may come before the command
 * words (`docstokg --config x.toml queue stats`); they are kept for the command that runs.
 */
export async function resolveCommandPath(
  root: CommandDef<ArgsDef>,
  rootName: string,
  argv: readonly string[],
): Promise<{ path: CommandStep[]; rest: string[] }> {
  const path: CommandStep[] = [{ name: rootName, cmd: root }];
  let rest = [...argv];
  for (;;) {
    const current = path[path.length - 1] as CommandStep;
    const subs = await subCommandsOf(current.cmd);
    if (!subs) break;
    let index = -1;
    for (let i = 0; i < rest.length; i++) {
      const word = rest[i] as string;
      if (word === "--") break;
      if (word.startsWith("-") && word !== "-") {
        if (globalValueFlags.has(word)) i++;
        continue;
      }
      index = i;
      break;
    }
    if (index < 0) break;
    const name = rest[index] as string;
    let next = Object.hasOwn(subs, name) ? subs[name] : undefined;
    if (!next) {
      for (const candidate of Object.values(subs)) {
        const meta = await commandMeta((await resolveValue(candidate)) as CommandDef<ArgsDef>);
        const aliases = Array.isArray(meta.alias) ? meta.alias : meta.alias ? [meta.alias] : [];
        if (aliases.includes(name)) next = candidate;
      }
    }
    if (!next) {
      const where = path.map((s) => s.name).join(" ");
      throw new UsageError(
        `unknown command "${name}" for "${where}"; expected one of: ${Object.keys(subs).join(", ")}`,
      );
    }
    path.push({ name, cmd: (await resolveValue(next)) as CommandDef<ArgsDef> });
    rest = [...rest.slice(0, index), ...rest.slice(index + 1)];
  }
  return { path, rest };
}

async function resolveValue<T>(value: T | (() => T) | (() => Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Reject flags the command does not declare, and value flags given without a value. */
export function checkFlags(args: ArgsDef, argv: readonly string[], commandLine: string): void {
  const kinds = new Map<string, string>();
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    for (const n of [name, camel(name), kebab(name), ...aliasesOf(def)]) kinds.set(n, def.type ?? "boolean");
  }
  const see = `see "${commandLine} --help"`;
  const words = optionPart(argv);
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (!word.startsWith("-") || word === "-" || /^-\d/.test(word)) continue;
    const long = word.startsWith("--");
    const [name = "", inline] = word.slice(long ? 2 : 1).split(/=(.*)/s, 2);
    const display = `${long ? "--" : "-"}${name}`;
    let kind = kinds.get(name);
    if (kind === undefined && long && name.startsWith("no-") && kinds.has(name.slice(3))) kind = "negated";
    if (kind === undefined) throw new UsageError(`unknown option ${display} for "${commandLine}"; ${see}`);
    if ((kind === "string" || kind === "enum") && inline === undefined) {
      const value = words[i + 1];
      if (value === undefined || (value.startsWith("--") && value !== "--")) {
        throw new UsageError(`option ${display} needs a value; ${see}`);
      }
      i++;
    }
  }
}

/** The message and exit code for something a command threw. */
export function describeFailure(error: unknown, commandLine = "docstokg"): { lines: string[]; code: number } {
  const e = error instanceof Error ? error : new Error(String(error));
  const text = stripVTControlCharacters(e.message);
  if (e instanceof ConfigError) return { lines: e.problems, code: EXIT.usage };
  if (e.name === "UsageError") return { lines: [text], code: EXIT.usage };
  if (e.name === "CLIError") {
    const missing = /^Missing required (?:positional )?argument: (.+)$/.exec(text);
    const line = missing ? `missing required argument ${missing[1]}` : text;
    return { lines: [`${line}; see "${commandLine} --help"`], code: EXIT.usage };
  }
  if (e.name === "Interrupted") return { lines: [text], code: EXIT.interrupted };
  return { lines: [text || e.name], code: EXIT.failure };
}

/** Run one command line; returns the exit code instead of exiting (the caller exits). */
export async function runCli(
  root: CommandDef<ArgsDef>,
  argv: readonly string[],
  io: CliIo = processIo,
): Promise<number> {
  const options = optionPart(argv);
  const debug = options.includes("--debug");
  let commandLine = "docstokg";
  try {
    commandLine = (await commandMeta(root)).name ?? commandLine;
    const { path, rest } = await resolveCommandPath(root, commandLine, argv);
    commandLine = path.map((s) => s.name).join(" ");
    const restOptions = optionPart(rest);
    if (restOptions.includes("--help") || restOptions.includes("-h")) {
      io.stdout(await renderUsage(path));
      return EXIT.ok;
    }
    if (path.length === 1 && restOptions.includes("--version")) {
      io.stdout(`${versionLine()}\n`);
      return EXIT.ok;
    }
    const leaf = (path[path.length - 1] as CommandStep).cmd;
    if (await subCommandsOf(leaf)) {
      io.stderr(await renderUsage(path));
      const stray = restOptions.find((w) => w.startsWith("-") && !globalValueFlags.has(w) && w !== "--debug");
      throw new UsageError(
        stray ? `unknown option ${stray} for "${commandLine}"` : `missing command for "${commandLine}"`,
      );
    }
    checkFlags(await commandArgs(leaf), rest, commandLine);
    await runCommand(leaf, { rawArgs: rest });
    return EXIT.ok;
  } catch (error) {
    const { lines, code } = describeFailure(error, commandLine);
    for (const line of lines) io.stderr(`error: ${line}\n`);
    if (debug && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
    return code;
  }
}
