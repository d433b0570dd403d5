// The docstokg command tree and process entry point. Wiring only: each group lives in src/cli/,
// command-line handling in src/cli/run.ts.
import { defineCommand } from "citty";
import { configCommand } from "./cli/config.ts";
import { fetchCommand, resolveCommand } from "./cli/fetch.ts";
import { manifestCommand } from "./cli/manifest.ts";
import { queueCommand } from "./cli/queue.ts";
import { reportCommand } from "./cli/report.ts";
import { EXIT, runCli } from "./cli/run.ts";
import { serveCommand } from "./cli/serve.ts";
import { VERSION } from "./version.ts";

export const main = defineCommand({
  meta: {
    name: "docstokg",
    version: VERSION,
    description: `Acquire the open-access full text of scholarly works, politely, durably and verifiably.

Examples:
  docstokg fetch 10.1038/nature12373
  docstokg queue import works.jsonl && docstokg queue run --drain
  docstokg report`,
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

/**
 * SIGINT/SIGTERM: a command that installs its own handler (the runner's graceful shutdown) gets
 * the first signal; otherwise, and on a second signal, the process exits 130 at once.
 */
function exitOnInterrupt(): void {
  let seen = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    seen++;
    if (seen === 1 && process.listenerCount(signal) > 1) return;
    process.stderr.write(`error: interrupted (${signal})\n`);
    process.exit(EXIT.interrupted);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

if (import.meta.main) {
  exitOnInterrupt();
  const code = await runCli(main, process.argv.slice(2));
  process.exit(code);
}
