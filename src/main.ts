// The process entry point: answers `--version` without loading the command tree (start-up time),
// otherwise runs the command line and exits with its code.
import { versionLine } from "./version.ts";

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
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  if (argv.length === 1 && argv[0] === "--version") {
    process.stdout.write(`${versionLine()}\n`);
    process.exit(0);
  }
  exitOnInterrupt();
  const [{ main }, { runCli }] = await Promise.all([import("./cli/tree.ts"), import("./cli/run.ts")]);
  process.exit(await runCli(main, argv));
}
