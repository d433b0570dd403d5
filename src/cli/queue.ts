// `docstokg queue …`: the durable work queue — import, inspect, steer and run it. One file per
// subcommand group (queue-import, queue-inspect, queue-steer, queue-run, queue-prune) and here the
// whole-queue switches pause/resume (on PostgreSQL every runner of the fleet obeys); each opens the
// configured state through cli/state-db.ts, so every one follows database_url.
import { defineCommand } from "citty";
import { createContext, globalArgs } from "./common.ts";
import { out } from "./queue-args.ts";
import { enqueueCmd, importCmd } from "./queue-import.ts";
import { listCmd, showCmd, statsCmd } from "./queue-inspect.ts";
import { pruneCmd } from "./queue-prune.ts";
import { runCmd } from "./queue-run.ts";
import { requeueCmd, retryFailedCmd } from "./queue-steer.ts";
import { withState } from "./state-db.ts";

const pauseCmd = defineCommand({
  meta: {
    name: "pause",
    description: `Stop every runner of this queue from leasing; in-flight work finishes.

Examples:
  docstokg queue pause`,
  },
  args: { ...globalArgs },
  async run({ args }) {
    const ctx = await createContext(args);
    await withState(ctx.config, {}, async (opened) => {
      const queue = opened.queue(Date.now);
      await queue.pause();
      out("paused: runners stop leasing; jobs in flight finish\n");
    });
  },
});

const resumeCmd = defineCommand({
  meta: {
    name: "resume",
    description: `Let runners lease again after a pause.

Examples:
  docstokg queue resume`,
  },
  args: { ...globalArgs },
  async run({ args }) {
    const ctx = await createContext(args);
    await withState(ctx.config, {}, async (opened) => {
      const queue = opened.queue(Date.now);
      await queue.resume();
      out("resumed: runners lease again\n");
    });
  },
});

export const queueCommand = defineCommand({
  meta: { name: "queue", description: "The durable work queue: import works, run them, inspect and steer." },
  subCommands: {
    import: importCmd,
    enqueue: enqueueCmd,
    run: runCmd,
    stats: statsCmd,
    list: listCmd,
    show: showCmd,
    "retry-failed": retryFailedCmd,
    requeue: requeueCmd,
    pause: pauseCmd,
    resume: resumeCmd,
    prune: pruneCmd,
  },
});
