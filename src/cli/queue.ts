// `docstokg queue …`: the durable work queue — import, inspect, steer and run it.
import { defineCommand } from "citty";
import { globalArgs, notAvailable } from "./common.ts";

const importCmd = defineCommand({
  meta: {
    name: "import",
    description: `Stream a file of works (JSONL artifacts, OpenAlex works or bare identifiers; .gz ok) into the queue.

Examples:
  docstokg queue import works.jsonl
  docstokg queue import openalex-dump.jsonl.gz --format openalex
  cat dois.txt | docstokg queue import -`,
  },
  args: {
    ...globalArgs,
    file: { type: "positional", description: "Input file, or - for stdin", required: true },
    format: { type: "string", description: "auto|artifact|openalex|ids [auto]", valueHint: "FORMAT" },
    rejects: { type: "string", description: "Where invalid lines go [<file>.rejects]", valueHint: "FILE" },
    json: { type: "boolean", description: "Print the summary as JSON" },
  },
  run: () => notAvailable("queue import"),
});

const enqueueCmd = defineCommand({
  meta: {
    name: "enqueue",
    description: `Enqueue identifiers (DOI, PMCID, PMID, arXiv id, URL) or one artifact as JSON.

Examples:
  docstokg queue enqueue 10.1038/nature12373 PMC3531190 arXiv:2101.00001
  docstokg queue enqueue --json '{"doi":"10.1/x","pdf_urls":["https://example.org/x.pdf"]}'`,
  },
  args: {
    ...globalArgs,
    json: { type: "string", description: "An artifact object as JSON", valueHint: "ARTIFACT" },
    priority: { type: "string", description: "Priority (higher first) [0]", valueHint: "N" },
  },
  run: () => notAvailable("queue enqueue"),
});

const runCmd = defineCommand({
  meta: {
    name: "run",
    description: `The main job: lease → resolve → download → record, until stopped (SIGINT/SIGTERM) or, with --drain, until the queue is empty.

Examples:
  docstokg queue run
  docstokg queue run --drain --workers 32
  docstokg queue run --status 127.0.0.1:9000`,
  },
  args: {
    ...globalArgs,
    drain: { type: "boolean", description: "Exit when nothing is ready, delayed or in flight" },
    workers: { type: "string", description: "Concurrent jobs (orchestrator.max_workers)", valueHint: "N" },
    status: { type: "string", description: "Status endpoint address [127.0.0.1:8787]", valueHint: "ADDR" },
    "no-status": { type: "boolean", description: "Do not serve the status endpoint" },
  },
  run: () => notAvailable("queue run"),
});

const statsCmd = defineCommand({
  meta: {
    name: "stats",
    description: `Counts by state, ready vs delayed, oldest ready age, recent throughput.

Examples:
  docstokg queue stats
  docstokg queue stats --json`,
  },
  args: { ...globalArgs, json: { type: "boolean", description: "Print JSON" } },
  run: () => notAvailable("queue stats"),
});

const listCmd = defineCommand({
  meta: {
    name: "list",
    description: `List jobs, newest change first.

Examples:
  docstokg queue list --state error --reason not_found --limit 50
  docstokg queue list --state queued --json`,
  },
  args: {
    ...globalArgs,
    state: { type: "string", description: "queued|in_progress|done|skipped|error", valueHint: "STATE" },
    reason: { type: "string", description: "Outcome reason (e.g. not_found)", valueHint: "REASON" },
    limit: { type: "string", description: "At most this many rows [50]", valueHint: "N" },
    json: { type: "boolean", description: "Print JSON lines" },
  },
  run: () => notAvailable("queue list"),
});

const showCmd = defineCommand({
  meta: {
    name: "show",
    description: `One job: its row, every attempt and its outcome.

Examples:
  docstokg queue show doi:10.1038/nature12373
  docstokg queue show 42 --json`,
  },
  args: {
    ...globalArgs,
    id: { type: "positional", description: "Artifact id or job id", required: true },
    json: { type: "boolean", description: "Print JSON" },
  },
  run: () => notAvailable("queue show"),
});

const retryFailedCmd = defineCommand({
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
  run: () => notAvailable("queue retry-failed"),
});

const requeueCmd = defineCommand({
  meta: {
    name: "requeue",
    description: `Put specific jobs back to queued (any state but in_progress).

Examples:
  docstokg queue requeue doi:10.1038/nature12373 17`,
  },
  args: { ...globalArgs },
  run: () => notAvailable("queue requeue"),
});

const pauseCmd = defineCommand({
  meta: {
    name: "pause",
    description: `Stop every runner of this queue from leasing; in-flight work finishes.

Examples:
  docstokg queue pause`,
  },
  args: { ...globalArgs },
  run: () => notAvailable("queue pause"),
});

const resumeCmd = defineCommand({
  meta: {
    name: "resume",
    description: `Let runners lease again after a pause.

Examples:
  docstokg queue resume`,
  },
  args: { ...globalArgs },
  run: () => notAvailable("queue resume"),
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
  },
});
