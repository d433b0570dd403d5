// `docstokg queue …`: the durable work queue — import, inspect, steer and run it. Thin: parse the
// flags, call the store, print; the work lives in src/store and src/artifact.

import type { Database } from "bun:sqlite";
import { resolve } from "node:path";
import { defineCommand } from "citty";
import { runQueue, StatusListenError } from "../app/queue-run.ts";
import { type Artifact, normalizeArtifact } from "../artifact/artifact.ts";
import { artifactFromIdentifier, isInputFormat } from "../artifact/input.ts";
import { redactDeep } from "../core/redact.ts";
import { LibraryUnavailableError } from "../library/open.ts";
import type { RunSummary } from "../runner/orchestrator.ts";
import { checkListen, ListenError } from "../status/listen.ts";
import { SchemaTooNewError } from "../store/db.ts";
import { type ImportSummary, importStream } from "../store/import.ts";
import { checkRejectsPath, RejectsPathError } from "../store/rejects-file.ts";
import { openQueueStore, queuePolicy, SqliteJobQueue } from "../store/sqlite-queue.ts";
import { isJobState, JOB_STATES } from "../store/types.ts";
import { type AppContext, createContext, globalArgs, RuntimeFailure, UsageError } from "./common.ts";
import { importSummaryLine, jobDetailText, jobsTable, statsText } from "./queue-format.ts";
import { pruneCmd } from "./queue-prune.ts";
import { openExistingState } from "./state-db.ts";

const MAX_INVALID_SHOWN = 20;

interface OpenQueue {
  ctx: AppContext;
  db: Database;
  queue: SqliteJobQueue;
}

/** The queue of the configured state directory; a database from a newer docstokg is a usage error. */
async function openQueue(args: Record<string, unknown>): Promise<OpenQueue> {
  const ctx = await createContext(args);
  try {
    return { ctx, ...openQueueStore(ctx.config.state_dir, ctx.config.queue, { now: Date.now }) };
  } catch (error) {
    if (error instanceof SchemaTooNewError) throw new UsageError(error.message);
    const message = error instanceof Error ? error.message : String(error);
    throw new RuntimeFailure(`cannot open the queue database in ${ctx.config.state_dir}: ${message}`);
  }
}

/** The queue opened read-only, for the commands that only look (work on a read-only state directory). */
async function withQueueReadOnly<T>(
  args: Record<string, unknown>,
  work: (q: OpenQueue) => Promise<T>,
): Promise<T> {
  const ctx = await createContext(args);
  const db = openExistingState(ctx.config.state_dir);
  try {
    return await work({
      ctx,
      db,
      queue: new SqliteJobQueue(db, queuePolicy(ctx.config.queue), { now: Date.now }),
    });
  } finally {
    db.close();
  }
}

async function withQueue<T>(args: Record<string, unknown>, work: (q: OpenQueue) => Promise<T>): Promise<T> {
  const q = await openQueue(args);
  try {
    return await work(q);
  } finally {
    q.db.close();
  }
}

function out(text: string): void {
  process.stdout.write(text);
}

function err(text: string): void {
  process.stderr.write(text);
}

function columns(): number {
  return process.stdout.isTTY ? (process.stdout.columns ?? 100) : 200;
}

function positionals(args: Record<string, unknown>): string[] {
  const rest = args._;
  return Array.isArray(rest) ? rest.map(String) : [];
}

function wholeNumber(value: unknown, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  const n = Number(text);
  if (text === "" || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(
      `${flag}: expected a whole number${min > 0 ? ` >= ${min}` : ""}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function priorityFlag(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(String(value).trim());
  if (String(value).trim() === "" || !Number.isSafeInteger(n)) {
    throw new UsageError(
      `--priority: expected a whole number (higher runs first), got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** A live progress line on a TTY for long imports. */
function progressLine(enabled: boolean) {
  const started = Date.now();
  let last = 0;
  let shown = false;
  return {
    update(s: ImportSummary) {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < 250) return;
      last = now;
      shown = true;
      const rate = s.lines / Math.max(0.001, (now - started) / 1000);
      err(
        `\r\x1b[2K${s.lines.toLocaleString("en-US")} lines, ${importSummaryLine(s)} (${Math.round(rate).toLocaleString("en-US")} lines/s)`,
      );
    },
    clear() {
      if (shown) err("\r\x1b[2K");
    },
  };
}

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
    rejects: {
      type: "string",
      description:
        "Where invalid lines go, replaced by each import (never through a symbolic link) [<file>.rejects]",
      valueHint: "FILE",
    },
    json: { type: "boolean", description: "Print the summary as JSON" },
    priority: { type: "string", description: "Priority of works that carry none [0]", valueHint: "N" },
  },
  async run({ args }) {
    const format = args.format ?? "auto";
    if (!isInputFormat(format)) {
      throw new UsageError(
        `--format: expected one of auto, artifact, openalex, ids, got ${JSON.stringify(format)}`,
      );
    }
    const priority = priorityFlag(args.priority);
    const file = String(args.file);
    const fromStdin = file === "-";
    let source: ReadableStream<Uint8Array>;
    if (fromStdin) {
      source = Bun.stdin.stream();
    } else {
      const input = Bun.file(file);
      if (!(await input.exists()))
        throw new UsageError(`${file}: no such file (expected a file of works, or - for stdin)`);
      source = input.stream();
    }
    await withQueue(args, async ({ ctx, queue }) => {
      const rejectsPath = args.rejects
        ? String(args.rejects)
        : fromStdin
          ? resolve(ctx.config.state_dir, "stdin.rejects")
          : `${file}.rejects`;
      try {
        checkRejectsPath(rejectsPath);
      } catch (error) {
        throw error instanceof RejectsPathError ? new UsageError(error.message) : error;
      }
      const progress = progressLine(process.stderr.isTTY === true && !args.json);
      let shown = 0;
      const summary = await importStream(queue, source, {
        format,
        rejectsPath,
        priority,
        onInvalid: ({ lineNo, reason }) => {
          if (shown++ < MAX_INVALID_SHOWN) {
            progress.clear();
            err(`line ${lineNo}: ${reason}\n`);
          }
        },
        onProgress: (s) => progress.update(s),
      });
      progress.clear();
      if (summary.invalid > MAX_INVALID_SHOWN) {
        err(`… and ${summary.invalid - MAX_INVALID_SHOWN} more invalid lines\n`);
      }
      if (args.json) {
        out(`${JSON.stringify(summary)}\n`);
      } else {
        out(`${importSummaryLine(summary)}\n`);
        if (summary.rejectsPath) out(`invalid lines written to ${summary.rejectsPath}\n`);
      }
      if (summary.readError) {
        throw new RuntimeFailure(
          `${fromStdin ? "stdin" : file}: reading stopped after line ${summary.lines}: ${summary.readError}; the ${summary.added} new jobs read before it are kept`,
        );
      }
    });
  },
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
    ids: {
      type: "positional",
      description: "Identifiers (DOI, PMCID, pmid:<n>, arXiv:<id>, URL)",
      required: false,
    },
    json: { type: "string", description: "An artifact object as JSON", valueHint: "ARTIFACT" },
    priority: { type: "string", description: "Priority (higher first) [0]", valueHint: "N" },
  },
  async run({ args }) {
    const priority = priorityFlag(args.priority);
    const artifacts: Artifact[] = [];
    for (const id of positionals(args)) {
      const parsed = artifactFromIdentifier(id);
      if (!parsed.ok) throw new UsageError(`${JSON.stringify(id)}: ${parsed.reason}`);
      artifacts.push(parsed.value);
    }
    if (args.json !== undefined) {
      let obj: unknown;
      try {
        obj = JSON.parse(String(args.json));
      } catch {
        throw new UsageError(`--json: expected an artifact as a JSON object, got text that is not JSON`);
      }
      const parsed = normalizeArtifact(obj);
      if (!parsed.ok) throw new UsageError(`--json: ${parsed.reason}`);
      artifacts.push(parsed.value);
    }
    if (artifacts.length === 0) {
      throw new UsageError(
        "expected at least one identifier (DOI, PMCID, pmid:<n>, arXiv:<id>, URL) or --json",
      );
    }
    for (const a of artifacts) if (priority !== undefined && a.priority === undefined) a.priority = priority;
    await withQueue(args, async ({ queue }) => {
      const r = await queue.enqueue(artifacts);
      out(`${r.added} new, ${r.duplicate} duplicate\n`);
      for (const a of artifacts) out(`  ${a.id}\n`);
    });
  },
});

const runCmd = defineCommand({
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

const statsCmd = defineCommand({
  meta: {
    name: "stats",
    description: `Counts by state, ready vs delayed, oldest ready age, recent throughput.

Examples:
  docstokg queue stats
  docstokg queue stats --json`,
  },
  args: { ...globalArgs, json: { type: "boolean", description: "Print JSON" } },
  async run({ args }) {
    await withQueueReadOnly(args, async ({ queue }) => {
      const stats = await queue.stats();
      out(args.json ? `${JSON.stringify(stats)}\n` : statsText(stats));
    });
  },
});

const listCmd = defineCommand({
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
    await withQueueReadOnly(args, async ({ queue }) => {
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

const showCmd = defineCommand({
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
    await withQueueReadOnly(args, async ({ queue }) => {
      const found = await queue.show(id);
      const detail = found && (redactDeep(found) as typeof found);
      if (!detail) throw new UsageError(`${JSON.stringify(id)}: no job with this artifact id or job id`);
      out(args.json ? `${JSON.stringify(detail)}\n` : jobDetailText(detail, columns()));
    });
  },
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
  async run({ args }) {
    const dryRun = args["dry-run"] === true;
    await withQueue(args, async ({ queue }) => {
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

const requeueCmd = defineCommand({
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
    await withQueue(args, async ({ queue }) => {
      const r = await queue.requeue(ids);
      out(`requeued ${r.requeued.length}\n`);
      if (r.inProgress.length) out(`held by a runner, left alone: ${r.inProgress.join(", ")}\n`);
      if (r.notFound.length)
        throw new UsageError(`no job with id ${r.notFound.map((x) => JSON.stringify(x)).join(", ")}`);
    });
  },
});

const pauseCmd = defineCommand({
  meta: {
    name: "pause",
    description: `Stop every runner of this queue from leasing; in-flight work finishes.

Examples:
  docstokg queue pause`,
  },
  args: { ...globalArgs },
  async run({ args }) {
    await withQueue(args, async ({ queue }) => {
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
    await withQueue(args, async ({ queue }) => {
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
