// The docstokg command tree. Wiring only: each group lives in src/cli/.
import { defineCommand, runMain } from "citty";
import { configCommand } from "./cli/config.ts";
import { fetchCommand, resolveCommand } from "./cli/fetch.ts";
import { manifestCommand } from "./cli/manifest.ts";
import { queueCommand } from "./cli/queue.ts";
import { reportCommand } from "./cli/report.ts";
import { serveCommand } from "./cli/serve.ts";

export const main = defineCommand({
  meta: {
    name: "docstokg",
    version: "0.1.0",
    description: "Acquire the open-access full text of scholarly works, politely, durably and verifiably.",
  },
  subCommands: {
    queue: queueCommand,
    fetch: fetchCommand,
    resolve: resolveCommand,
    serve: serveCommand,
    report: reportCommand,
    manifest: manifestCommand,
    config: configCommand,
  },
});

if (import.meta.main) await runMain(main);
