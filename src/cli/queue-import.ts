// `docstokg queue import` and `queue enqueue`: works into the queue of the configured state
// (SQLite in state_dir, or PostgreSQL by database_url). Thin: parse, stream through store/import.ts,
// print the summary.
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { defineCommand } from "citty";
import { type Artifact, normalizeArtifact } from "../artifact/artifact.ts";
import { artifactFromIdentifier, isInputFormat } from "../artifact/input.ts";
import { type ImportSummary, importStream } from "../store/import.ts";
import { checkRejectsPath, RejectsPathError } from "../store/rejects-file.ts";
import { createContext, globalArgs, RuntimeFailure, UsageError } from "./common.ts";
import { err, out, positionals, priorityFlag } from "./queue-args.ts";
import { importSummaryLine } from "./queue-format.ts";
import { withState } from "./state-db.ts";

const MAX_INVALID_SHOWN = 20;

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

export const importCmd = defineCommand({
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
    const ctx = await createContext(args);
    await withState(ctx.config, {}, async (opened) => {
      const queue = opened.queue(Date.now);
      // With the queue in PostgreSQL nothing else has made the state directory yet.
      if (fromStdin && !args.rejects) mkdirSync(ctx.config.state_dir, { recursive: true });
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

export const enqueueCmd = defineCommand({
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
    const ctx = await createContext(args);
    await withState(ctx.config, {}, async (opened) => {
      const queue = opened.queue(Date.now);
      const r = await queue.enqueue(artifacts);
      out(`${r.added} new, ${r.duplicate} duplicate\n`);
      for (const a of artifacts) out(`  ${a.id}\n`);
    });
  },
});
