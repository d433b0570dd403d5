// `docstokg report`: run summary and service-level indicators.
import { defineCommand } from "citty";
import { globalArgs, notAvailable } from "./common.ts";

export const reportCommand = defineCommand({
  meta: {
    name: "report",
    description: `Summarize outcomes, yield per resolver and tier, per-host politeness and the service-level objectives.

Examples:
  docstokg report
  docstokg report --json
  docstokg report --check --verify`,
  },
  args: {
    ...globalArgs,
    json: { type: "boolean", description: "Print JSON" },
    check: { type: "boolean", description: "Exit 1 when an objective is violated" },
    verify: { type: "boolean", description: "Re-hash every stored file against its recorded SHA-256" },
  },
  run: () => notAvailable("report"),
});
