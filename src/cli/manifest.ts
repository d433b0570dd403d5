// `docstokg manifest export`: outcomes as JSONL or CSV.
import { defineCommand } from "citty";
import { globalArgs, notAvailable } from "./common.ts";

const exportCmd = defineCommand({
  meta: {
    name: "export",
    description: `Stream outcomes as JSONL or CSV to stdout.

Examples:
  docstokg manifest export --format csv > outcomes.csv
  docstokg manifest export --since 2026-01-01T00:00:00Z --state done`,
  },
  args: {
    ...globalArgs,
    format: { type: "string", description: "jsonl|csv [jsonl]", valueHint: "FORMAT" },
    since: {
      type: "string",
      description: "Only outcomes recorded at or after this ISO time",
      valueHint: "TIME",
    },
    state: { type: "string", description: "done|skipped|error", valueHint: "STATE" },
  },
  run: () => notAvailable("manifest export"),
});

export const manifestCommand = defineCommand({
  meta: { name: "manifest", description: "Export the record of outcomes." },
  subCommands: { export: exportCmd },
});
