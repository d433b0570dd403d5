// The docstokg command tree. Wiring only: each group lives in its own file here.
import { defineCommand } from "citty";
import { VERSION } from "../version.ts";
import { configCommand } from "./config.ts";
import { fetchCommand, resolveCommand } from "./fetch.ts";
import { libraryCommand } from "./library.ts";
import { manifestCommand } from "./manifest.ts";
import { openalexCommand } from "./openalex.ts";
import { planCommand } from "./plan.ts";
import { queueCommand } from "./queue.ts";
import { reportCommand } from "./report.ts";
import { serveCommand } from "./serve.ts";
import { stateCommand } from "./state.ts";

export const main = defineCommand({
  meta: {
    name: "docstokg",
    version: VERSION,
    description: `Acquire the open-access full text of scholarly works, politely, durably and verifiably.

Examples:
  docstokg fetch 10.1038/nature12373
  docstokg queue import works.jsonl && docstokg queue run --drain
  docstokg openalex import --filter 'publication_year:>2019,is_oa:true' --max 1000
  docstokg report`,
  },
  subCommands: {
    queue: queueCommand,
    fetch: fetchCommand,
    resolve: resolveCommand,
    serve: serveCommand,
    report: reportCommand,
    manifest: manifestCommand,
    library: libraryCommand,
    openalex: openalexCommand,
    plan: planCommand,
    state: stateCommand,
    config: configCommand,
  },
});
