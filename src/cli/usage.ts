// Help text. A command's own help shows its whole description (with examples); lists of
// subcommands show only the first line of each, so multi-line descriptions stay readable.
import type { ArgDef, ArgsDef, CommandDef, CommandMeta, SubCommandsDef } from "citty";
import { globalArgs } from "./common.ts";

/** One step of a resolved command line: the name typed and the command it named. */
export interface CommandStep {
  name: string;
  cmd: CommandDef<ArgsDef>;
}

async function resolve<T>(
  value: T | Promise<T> | (() => T) | (() => Promise<T>) | undefined,
): Promise<T | undefined> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

export async function commandMeta(cmd: CommandDef<ArgsDef>): Promise<CommandMeta> {
  return (await resolve(cmd.meta)) ?? {};
}

export async function commandArgs(cmd: CommandDef<ArgsDef>): Promise<ArgsDef> {
  return (await resolve(cmd.args)) ?? {};
}

export async function subCommandsOf(cmd: CommandDef<ArgsDef>): Promise<SubCommandsDef | undefined> {
  const subs = await resolve(cmd.subCommands);
  return subs && Object.keys(subs).length > 0 ? subs : undefined;
}

/** The first line of a description: what lists of commands show. */
export function firstLine(description: string | undefined): string {
  return (description ?? "").split("\n")[0]?.trim() ?? "";
}

function columns(rows: Array<[string, string]>): string[] {
  const width = Math.min(Math.max(0, ...rows.map(([left]) => left.length)), 34);
  return rows.map(([left, right]) => {
    if (!right) return `  ${left}`;
    return left.length > width
      ? `  ${left}\n  ${" ".repeat(width + 2)}${right}`
      : `  ${left.padEnd(width)}  ${right}`;
  });
}

/** The other names of a flag (`alias`), as a list. */
export function aliasesOf(def: ArgDef): string[] {
  const alias = "alias" in def ? def.alias : undefined;
  return Array.isArray(alias) ? alias : alias ? [alias] : [];
}

function flagLabel(name: string, def: ArgDef): string {
  const aliases = aliasesOf(def).map((a) => (a.length === 1 ? `-${a}` : `--${a}`));
  const hint = def.type === "string" || def.type === "enum" ? ` ${def.valueHint ?? name.toUpperCase()}` : "";
  return [...aliases, `--${name}`].join(", ") + hint;
}

const globalNames = new Set(Object.keys(globalArgs));

/** Examples of a group: the first example of each subcommand, when the group has none of its own. */
async function borrowedExamples(subs: SubCommandsDef): Promise<string[]> {
  const lines: string[] = [];
  for (const sub of Object.values(subs)) {
    const meta = await commandMeta((await resolve(sub)) as CommandDef<ArgsDef>);
    const text = meta.description ?? "";
    const at = text.indexOf("Examples:");
    const example =
      at < 0
        ? undefined
        : text
            .slice(at + "Examples:".length)
            .split("\n")
            .find((l) => l.trim());
    if (example) lines.push(`  ${example.trim()}`);
  }
  return lines;
}

/** The help text for the last command of `path` (the root first). */
export async function renderUsage(path: readonly CommandStep[]): Promise<string> {
  const last = path[path.length - 1];
  if (!last) return "";
  const meta = await commandMeta(last.cmd);
  const args = await commandArgs(last.cmd);
  const subs = await subCommandsOf(last.cmd);
  const commandLine = path.map((s) => s.name).join(" ");
  const out: string[] = [];
  const description = (meta.description ?? "").trim();
  if (description) out.push(description, "");

  const positionals = Object.entries(args).filter(([, def]) => def.type === "positional");
  const usage = [commandLine, subs ? "<command>" : "", "[options]"];
  for (const [name, def] of positionals)
    usage.push(def.required === false ? `[${name.toUpperCase()}]` : `<${name.toUpperCase()}>`);
  out.push(`Usage: ${usage.filter(Boolean).join(" ")}`, "");

  if (positionals.length > 0) {
    out.push(
      "Arguments:",
      ...columns(positionals.map(([name, def]) => [name.toUpperCase(), def.description ?? ""])),
      "",
    );
  }
  const flags = Object.entries(args).filter(([, def]) => def.type !== "positional");
  const own = flags.filter(([name]) => !globalNames.has(name));
  if (own.length > 0) {
    out.push(
      "Options:",
      ...columns(own.map(([name, def]) => [flagLabel(name, def), def.description ?? ""])),
      "",
    );
  }
  const global: Array<[string, string]> = Object.entries(globalArgs).map(([name, def]) => [
    flagLabel(name, def as ArgDef),
    def.description,
  ]);
  if (path.length === 1) global.push(["--version", "Print the version and the commit it was built from"]);
  global.push(["-h, --help", "Show this help"]);
  out.push("Global options:", ...columns(global), "");

  if (subs) {
    const rows: Array<[string, string]> = [];
    for (const [name, sub] of Object.entries(subs)) {
      const subMeta = await commandMeta((await resolve(sub)) as CommandDef<ArgsDef>);
      if (!subMeta.hidden) rows.push([name, firstLine(subMeta.description)]);
    }
    out.push("Commands:", ...columns(rows), "");
    if (!description.includes("Examples:")) {
      const examples = await borrowedExamples(subs);
      if (examples.length > 0) out.push("Examples:", ...examples, "");
    }
    out.push(`Run "${commandLine} <command> --help" for the options and examples of a command.`);
  }
  return `${out.join("\n").trimEnd()}\n`;
}
