// `docstokg config print|check|schema`.
import { defineCommand } from "citty";
import { globalArgs, notAvailable } from "./common.ts";

const printCmd = defineCommand({
  meta: {
    name: "print",
    description: `Print the effective configuration and where each value came from (secrets redacted).

Examples:
  docstokg config print
  docstokg --config docstokg.toml config print --json`,
  },
  args: { ...globalArgs, json: { type: "boolean", description: "Print JSON" } },
  run: () => notAvailable("config print"),
});

const checkCmd = defineCommand({
  meta: {
    name: "check",
    description: `Validate a config file; exit 2 naming each wrong key.

Examples:
  docstokg config check docstokg.toml`,
  },
  args: { ...globalArgs, file: { type: "positional", description: "Config file to check", required: true } },
  run: () => notAvailable("config check"),
});

const schemaCmd = defineCommand({
  meta: {
    name: "schema",
    description: `Print the configuration's JSON Schema.

Examples:
  docstokg config schema > docstokg.schema.json`,
  },
  args: { ...globalArgs },
  run: () => notAvailable("config schema"),
});

export const configCommand = defineCommand({
  meta: { name: "config", description: "Show, validate and describe the configuration." },
  subCommands: { print: printCmd, check: checkCmd, schema: schemaCmd },
});
