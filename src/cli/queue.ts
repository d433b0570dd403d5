// `docstokg queue …`: the durable work queue — import, inspect, steer and run it. One file per
// subcommand group (queue-import, queue-inspect, queue-steer, queue-run, queue-prune); each opens
// the configured state through cli/state-db.ts, so every one follows database_url.
import { defineCommand } from "citty";
import { enqueueCmd, importCmd } from "./queue-import.ts";
import { listCmd, showCmd, statsCmd } from "./queue-inspect.ts";
import { pruneCmd } from "./queue-prune.ts";
import { runCmd } from "./queue-run.ts";
import { pauseCmd, requeueCmd, resumeCmd, retryFailedCmd } from "./queue-steer.ts";

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
