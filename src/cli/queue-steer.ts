// `docstokg queue retry-failed` and `requeue`: put jobs back to queued in the configured state
// (SQLite in state_dir, or PostgreSQL by database_url).
import { defineCommand } from "citty";
import { createContext, globalArgs, UsageError } from "./common.ts";
import { out, positionals } from "./queue-args.ts";
import { withState } from "./state-db.ts";

export const retryFailedCmd = defineCommand({
  meta: {
    name: "retry-failed",
    description: `Move jobs in state error back to queued.

Examples:
  docstokg queue retry-failed
  docstokg queue retry-failed --reason timeout --dry-run`,
  },
  args: {
    ...globalArgs,
    reason: { type: "string", description: "Only jobs that failed with this reason", valueHint: "REASON" },
    "dry-run": { type: "boolean", description: "Only count what would be moved" },
  },
  async run({ args }) {
    const dryRun = args["dry-run"] === true;
    const ctx = await createContext(args);
    await withState(ctx.config, {}, async (opened) => {
      const queue = opened.queue(Date.now);
      const n = await queue.retryFailed({ reason: args.reason, dryRun });
      const which = args.reason ? ` with reason ${args.reason}` : "";
      out(
        dryRun
          ? `would move ${n} error jobs${which} back to queued\n`
          : `moved ${n} error jobs${which} back to queued\n`,
      );
    });
  },
});

export const requeueCmd = defineCommand({
  meta: {
    name: "requeue",
    description: `Put specific jobs back to queued (any state but in_progress).

Examples:
  docstokg queue requeue doi:10.1038/nature12373 17`,
  },
  args: {
    ...globalArgs,
    ids: { type: "positional", description: "Artifact ids or job ids", required: true },
  },
  async run({ args }) {
    const ids = positionals(args);
    if (ids.length === 0) throw new UsageError("expected at least one artifact id or job id");
    const ctx = await createContext(args);
    await withState(ctx.config, {}, async (opened) => {
      const queue = opened.queue(Date.now);
      const r = await queue.requeue(ids);
      out(`requeued ${r.requeued.length}\n`);
      if (r.inProgress.length) out(`held by a runner, left alone: ${r.inProgress.join(", ")}\n`);
      if (r.notFound.length)
        throw new UsageError(`no job with id ${r.notFound.map((x) => JSON.stringify(x)).join(", ")}`);
    });
  },
});
