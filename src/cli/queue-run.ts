// `docstokg queue run`: the main job, assembled in app/queue-run.ts. Thin: check the flags (a bad
// status address is a usage error before any work starts), run, log the summary.
import { defineCommand } from "citty";
import { runQueue, StatusListenError } from "../app/queue-run.ts";
import { LibraryUnavailableError } from "../library/open.ts";
import type { RunSummary } from "../runner/orchestrator.ts";
import { checkListen, ListenError } from "../status/listen.ts";
import { SchemaTooNewError } from "../store/db.ts";
import { createContext, globalArgs, UsageError } from "./common.ts";

export const runCmd = defineCommand({
  meta: {
    name: "run",
    description: `The main job: lease → resolve → download → record, until stopped (SIGINT/SIGTERM) or, with --drain, until the queue is empty. With telemetry.otlp_endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT) set, it also exports its metrics and one trace per job over OTLP/HTTP.

Examples:
  docstokg queue run
  docstokg queue run --drain --workers 32
  docstokg queue run --status 127.0.0.1:9000
  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 docstokg queue run`,
  },
  args: {
    ...globalArgs,
    drain: { type: "boolean", description: "Exit when nothing is ready, delayed or in flight" },
    workers: { type: "string", description: "Concurrent jobs (orchestrator.max_workers)", valueHint: "N" },
    status: { type: "string", description: "Status endpoint address [127.0.0.1:8787]", valueHint: "ADDR" },
    "no-status": { type: "boolean", description: "Do not serve the status endpoint" },
  },
  async run({ args }) {
    const ctx = await createContext(args, { flags: { workers: "orchestrator.max_workers" } });
    const a = args as Record<string, unknown>;
    // citty turns --no-status into `status: false`.
    const noStatus = a.status === false || a["no-status"] === true;
    if (typeof a.status === "string" && a.status === "") throw new UsageError("--status: expected HOST:PORT");
    const address = noStatus
      ? null
      : typeof a.status === "string"
        ? a.status
        : ctx.config.status.enabled
          ? ctx.config.status.listen
          : null;
    // A bad or unsafe address is a usage error before any work starts.
    if (address !== null) {
      try {
        checkListen(address, ctx.config.status.token);
      } catch (error) {
        if (error instanceof ListenError) throw new UsageError(`--status: ${error.message}`);
        throw error;
      }
    }
    const format =
      a["log-format"] ?? process.env.DOCSTOKG_LOG_FORMAT ?? (process.stderr.isTTY ? "pretty" : "json");
    const progress = format === "json" ? "json" : process.stderr.isTTY ? "tty" : "off";
    let summary: RunSummary;
    try {
      summary = await runQueue({
        config: ctx.config,
        log: ctx.log,
        drain: a.drain === true,
        statusAddress: address,
        progress,
      });
    } catch (error) {
      if (error instanceof StatusListenError) throw new UsageError(`--status: ${error.message}`);
      if (error instanceof LibraryUnavailableError) throw new UsageError(error.message);
      if (error instanceof SchemaTooNewError) throw new UsageError(error.message);
      throw error;
    }
    ctx.log.info(
      `${summary.end === "drained" ? "drained" : "stopped"}: ${summary.acked} done or skipped, ${summary.failed} failed (retry or error), ${summary.released} released${summary.lost ? `, ${summary.lost} lost to other runners` : ""}`,
    );
  },
});
