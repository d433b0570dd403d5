// `docstokg queue stats`, `list` and `show`: look at the queue of the configured state (SQLite in
// state_dir opened read-only, or PostgreSQL by database_url). Thin: parse, ask the JobQueue, print.
import { defineCommand } from "citty";
import { redactDeep } from "../core/redact.ts";
import { isJobState, JOB_STATES } from "../store/types.ts";
import { createContext, globalArgs, UsageError } from "./common.ts";
import { columns, err, out, wholeNumber } from "./queue-args.ts";
import { jobDetailText, jobsTable, statsText } from "./queue-format.ts";
import { withState } from "./state-db.ts";

export const statsCmd = defineCommand({
  meta: {
    name: "stats",
    description: `Counts by state, ready vs delayed, oldest ready age, recent throughput.

Examples:
  docstokg queue stats
  docstokg queue stats --json`,
  },
  args: { ...globalArgs, json: { type: "boolean", description: "Print JSON" } },
  async run({ args }) {
    const ctx = await createContext(args);
    await withState(ctx.config, { readOnly: true }, async (opened) => {
      const queue = opened.queue(Date.now);
      const stats = await queue.stats();
      out(args.json ? `${JSON.stringify(stats)}\n` : statsText(stats));
    });
  },
});

export const listCmd = defineCommand({
  meta: {
    name: "list",
    description: `List jobs, newest first.

Examples:
  docstokg queue list --state error --reason not_found --limit 50
  docstokg queue list --state queued --json`,
  },
  args: {
    ...globalArgs,
    state: { type: "string", description: "queued|in_progress|done|skipped|error", valueHint: "STATE" },
    reason: { type: "string", description: "Outcome reason (e.g. not_found)", valueHint: "REASON" },
    limit: { type: "string", description: "At most this many rows [50]", valueHint: "N" },
    cursor: {
      type: "string",
      description: "Continue after the page that printed this cursor",
      valueHint: "CURSOR",
    },
    json: { type: "boolean", description: "Print JSON lines" },
  },
  async run({ args }) {
    const state = args.state;
    if (state !== undefined && !isJobState(state)) {
      throw new UsageError(`--state: expected one of ${JOB_STATES.join(", ")}, got ${JSON.stringify(state)}`);
    }
    const limit = wholeNumber(args.limit, "--limit", 1) ?? 50;
    const cursor = args.cursor;
    if (cursor !== undefined && !/^\d+$/.test(cursor)) {
      throw new UsageError(
        `--cursor: expected a cursor printed by a previous page, got ${JSON.stringify(cursor)}`,
      );
    }
    const ctx = await createContext(args);
    await withState(ctx.config, { readOnly: true }, async (opened) => {
      const queue = opened.queue(Date.now);
      const listed = await queue.list({ state, reason: args.reason, limit, cursor });
      // Rows written before ids were redacted, and the artifact's own URLs, may carry credentials.
      const page = { ...listed, jobs: listed.jobs.map((job) => redactDeep(job) as typeof job) };
      if (args.json) {
        for (const job of page.jobs) out(`${JSON.stringify(job)}\n`);
      } else if (page.jobs.length === 0) {
        out("no jobs match\n");
      } else {
        out(jobsTable(page.jobs, columns()));
      }
      if (page.nextCursor) err(`more: --cursor ${page.nextCursor}\n`);
    });
  },
});

export const showCmd = defineCommand({
  meta: {
    name: "show",
    description: `One job: its row, every attempt and its outcome (with the licence, version, host type
and OA status a source gave for the obtained file).

Examples:
  docstokg queue show doi:10.1038/nature12373
  docstokg queue show 42 --json`,
  },
  args: {
    ...globalArgs,
    id: { type: "positional", description: "Artifact id or job id", required: true },
    json: { type: "boolean", description: "Print JSON" },
  },
  async run({ args }) {
    const id = String(args.id);
    const ctx = await createContext(args);
    await withState(ctx.config, { readOnly: true }, async (opened) => {
      const queue = opened.queue(Date.now);
      const found = await queue.show(id);
      const detail = found && (redactDeep(found) as typeof found);
      if (!detail) throw new UsageError(`${JSON.stringify(id)}: no job with this artifact id or job id`);
      out(args.json ? `${JSON.stringify(detail)}\n` : jobDetailText(detail, columns()));
    });
  },
});
