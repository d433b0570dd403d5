// `docstokg config print|check|schema`.
import { defineCommand } from "citty";
import { configJsonSchema } from "../config/json-schema.ts";
import { checkConfigFile } from "../config/load.ts";
import { redactSecrets } from "../config/redact.ts";
import { configReference } from "../config/reference.ts";
import { describeSource, type Source } from "../config/source.ts";
import { createContext, globalArgs } from "./common.ts";

function valueAt(config: unknown, dotted: string): unknown {
  // Source keys are formatted paths; keys with dots are quoted ("arxiv.org").
  const parts = dotted.match(/"(?:[^"\\]|\\.)*"|[^.]+/g) ?? [];
  let node: unknown = config;
  for (const part of parts) {
    const key = part.startsWith('"') ? (JSON.parse(part) as string) : part;
    node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  }
  return node;
}

/** `key = value  # source` lines, secrets redacted. */
export function formatEffectiveConfig(config: unknown, sources: Record<string, Source>): string {
  const redacted = redactSecrets(config);
  const rows = Object.entries(sources).map(([key, source]) => {
    const value = valueAt(redacted, key);
    return [
      `${key} = ${value === undefined ? "(unset)" : JSON.stringify(value)}`,
      describeSource(source),
    ] as const;
  });
  const width = Math.min(Math.max(0, ...rows.map(([left]) => left.length)), 60);
  return `${rows.map(([left, source]) => `${left.padEnd(width)}  # ${source}`).join("\n")}\n`;
}

const printCmd = defineCommand({
  meta: {
    name: "print",
    description: `Print the effective configuration and where each value came from (secrets redacted).

Examples:
  docstokg config print
  docstokg --config docstokg.toml config print --json`,
  },
  args: { ...globalArgs, json: { type: "boolean", description: "Print JSON" } },
  run: async ({ args }) => {
    const ctx = await createContext(args);
    if (args.json) {
      const sources = Object.fromEntries(Object.entries(ctx.sources).map(([k, s]) => [k, describeSource(s)]));
      const out = { file: ctx.configFile ?? null, config: redactSecrets(ctx.config), sources };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else {
      process.stdout.write(formatEffectiveConfig(ctx.config, ctx.sources));
    }
  },
});

const checkCmd = defineCommand({
  meta: {
    name: "check",
    description: `Validate a config file on its own (no environment or flags); exit 2 naming each wrong key.

Examples:
  docstokg config check docstokg.toml
  docstokg config check /etc/docstokg/docstokg.json`,
  },
  args: { ...globalArgs, file: { type: "positional", description: "Config file to check", required: true } },
  run: async ({ args }) => {
    await checkConfigFile(args.file, process.cwd());
    process.stdout.write(`ok: ${args.file}\n`);
  },
});

const schemaCmd = defineCommand({
  meta: {
    name: "schema",
    description: `Print the configuration's JSON Schema (or, with --markdown, the reference table).

Examples:
  docstokg config schema > docstokg.schema.json
  docstokg config schema --markdown`,
  },
  args: { ...globalArgs, markdown: { type: "boolean", description: "Print the Markdown reference instead" } },
  run: ({ args }) => {
    process.stdout.write(
      args.markdown ? configReference() : `${JSON.stringify(configJsonSchema(), null, 2)}\n`,
    );
  },
});

export const configCommand = defineCommand({
  meta: {
    name: "config",
    description: `Show, validate and describe the configuration.

Examples:
  docstokg config print
  docstokg config check docstokg.toml
  docstokg config schema`,
  },
  subCommands: { print: printCmd, check: checkCmd, schema: schemaCmd },
});
