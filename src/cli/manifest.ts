// `docstokg manifest export`: outcomes as JSONL or CSV on stdout — on PostgreSQL the whole fleet's.
// Thin: check the flags, open the state (SQLite read-only, or PostgreSQL by database_url), stream
// (src/telemetry/export.ts).
import { defineCommand } from "citty";
import {
  EXPORT_FORMATS,
  type ExportFilter,
  type ExportFormat,
  exportOutcomes,
  parseSince,
  SinkClosed,
} from "../telemetry/export.ts";
import { createContext, globalArgs, UsageError } from "./common.ts";
import { openCommandState } from "./state-db.ts";

const EXPORT_STATES = ["done", "skipped", "error"] as const;

/** The flags checked all at once, so one run names every bad one. */
export function exportFlags(args: Record<string, unknown>): { format: ExportFormat; filter: ExportFilter } {
  const problems: string[] = [];
  const format = args.format === undefined ? "jsonl" : String(args.format);
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    problems.push(`--format: expected one of ${EXPORT_FORMATS.join(", ")}, got ${JSON.stringify(format)}`);
  }
  const filter: ExportFilter = {};
  if (args.since !== undefined) {
    const since = parseSince(String(args.since));
    if (since === null) {
      problems.push(
        `--since: expected an ISO-8601 time like 2026-01-31 or 2026-01-31T12:00:00Z, got ${JSON.stringify(args.since)}`,
      );
    } else filter.since = since;
  }
  if (args.state !== undefined) {
    const state = String(args.state);
    if ((EXPORT_STATES as readonly string[]).includes(state)) filter.state = state as ExportFilter["state"];
    else problems.push(`--state: expected one of ${EXPORT_STATES.join(", ")}, got ${JSON.stringify(state)}`);
  }
  if (problems.length > 0) throw new UsageError(problems.join("; "));
  return { format: format as ExportFormat, filter };
}

const exportCmd = defineCommand({
  meta: {
    name: "export",
    description: `Stream outcomes as JSONL or CSV to stdout (format version 2: with license, license_url,
version, host_type and oa_status of each obtained file).

Examples:
  docstokg manifest export --format csv > outcomes.csv
  docstokg manifest export --since 2026-01-01T00:00:00Z --state done
  DOCSTOKG_DATABASE_URL_FILE=/etc/docstokg/credentials/DOCSTOKG_DATABASE_URL docstokg manifest export   # the whole fleet's`,
  },
  args: {
    ...globalArgs,
    format: { type: "string", description: "jsonl|csv [jsonl]", valueHint: "FORMAT" },
    since: {
      type: "string",
      description: "Only outcomes finished at or after this ISO time (UTC unless zoned)",
      valueHint: "TIME",
    },
    state: { type: "string", description: "done|skipped|error", valueHint: "STATE" },
  },
  async run({ args }) {
    const { format, filter } = exportFlags(args);
    const ctx = await createContext(args);
    const state = await openCommandState(ctx.config, { readOnly: true });
    // A reader that goes away (`| head`) is not a failure: stop writing and exit 0. The listener
    // stays for the rest of the process, since the error event can come after the last write.
    process.stdout.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
    });
    try {
      const n = await exportOutcomes(state.reads, process.stdout, format, filter);
      ctx.log.debug(`exported ${n} outcomes`);
    } catch (error) {
      if (!(error instanceof SinkClosed)) throw error;
    } finally {
      await state.close();
    }
  },
});

export const manifestCommand = defineCommand({
  meta: { name: "manifest", description: "Export the record of outcomes." },
  subCommands: { export: exportCmd },
});
