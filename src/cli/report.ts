// `docstokg report`: run summary and service-level indicators. Thin: open the state (SQLite in
// state_dir read-only, or PostgreSQL by database_url),
// optionally re-hash the library with a progress line, build the report, print it; exit 1 when
// --verify found a missing or corrupt file, and with --check naming each violated objective.

import { defineCommand } from "citty";
import type { Library } from "../library/library.ts";
import { LibraryUnavailableError, openLibrary } from "../library/open.ts";
import { sourceUsage } from "../quota/gate.ts";
import { parseSince } from "../telemetry/export.ts";
import { CLEAR_LINE } from "../telemetry/progress.ts";
import { reportOf } from "../telemetry/report.ts";
import { reportText } from "../telemetry/report-text.ts";
import { OBJECTIVE_HELP } from "../telemetry/sli.ts";
import { type VerifyProgress, verifyLibrary, verifyProgressText } from "../telemetry/verify.ts";
import { createContext, globalArgs, RuntimeFailure, UsageError } from "./common.ts";
import { withState } from "./state-db.ts";

export const reportCommand = defineCommand({
  meta: {
    name: "report",
    description: `Summarize outcomes, yield per resolver and tier, per-host politeness and the service-level objectives.

Objectives ([telemetry.objectives]; --check exits 1 when one is violated, "unmeasured" never fails):
${Object.entries(OBJECTIVE_HELP)
  .map(([name, text]) => `  ${name}: ${text}`)
  .join("\n")}

Examples:
  docstokg report
  docstokg report --json
  docstokg report --verify        # exit 1 when a stored file is missing or corrupt
  docstokg report --verify --sample 5% --since 2026-01-01   # a nightly spot check
  docstokg report --check --verify
  docstokg report --verify --out s3://corpus/library        # objects re-read from the store`,
  },
  args: {
    ...globalArgs,
    json: { type: "boolean", description: "Print JSON (version 1, fields in the README)" },
    check: { type: "boolean", description: "Exit 1 when an objective is violated" },
    verify: {
      type: "boolean",
      description:
        "Re-hash every stored file (or object, with out_dir = s3://…) against its recorded SHA-256; exit 1 if any is missing or corrupt",
    },
    sample: {
      type: "string",
      description: "With --verify: check a random share of the files, e.g. 5% [100%]",
      valueHint: "N%",
    },
    since: {
      type: "string",
      description: "With --verify: only files stored at or after this ISO-8601 time",
      valueHint: "TIME",
    },
  },
  async run({ args }) {
    const ctx = await createContext(args);
    const sample = args.sample === undefined ? undefined : parseSample(String(args.sample));
    if (sample === null)
      throw new UsageError(
        `--sample: expected a share like 5% (over 0, at most 100%), got ${JSON.stringify(args.sample)}`,
      );
    let since: number | undefined;
    if (args.since !== undefined) {
      const t = parseSince(String(args.since));
      if (t === null)
        throw new UsageError(
          `--since: expected an ISO-8601 time like 2026-01-31 or 2026-01-31T12:00:00Z, got ${JSON.stringify(args.since)}`,
        );
      since = t;
    }
    if ((sample !== undefined || since !== undefined) && !args.verify)
      throw new UsageError("--sample and --since narrow --verify: add --verify");
    let library: Library | undefined;
    try {
      library = args.verify ? openLibrary(ctx.config, process.env) : undefined;
    } catch (e) {
      throw e instanceof LibraryUnavailableError ? new UsageError(e.message) : e;
    }
    await withState(ctx.config, { readOnly: true }, async (state) => {
      let verify = null;
      if (args.verify) {
        // A live line on a terminal; in JSON log mode a record every telemetry.progress_interval_s.
        const tty = process.stderr.isTTY === true;
        let progress: VerifyProgress = { checked: 0, total: 0, bytes: 0 };
        const show = () => {
          if (tty) process.stderr.write(`${CLEAR_LINE}${verifyProgressText(progress)}`);
          else ctx.log.info("verifying stored files", { ...progress });
        };
        const timer = setInterval(show, tty ? 250 : ctx.config.telemetry.progress_interval_s * 1000);
        try {
          verify = await verifyLibrary(state.reads, {
            outDir: ctx.config.out_dir,
            library: library?.remote ? library : undefined,
            concurrency: library?.remote ? ctx.config.s3.concurrency : 1,
            sample,
            since,
            onProgress: (p) => {
              progress = p;
            },
          });
        } finally {
          clearInterval(timer);
          if (tty) process.stderr.write(CLEAR_LINE);
        }
        ctx.log.info("verified stored files", {
          checked: verify.files,
          ok: verify.ok,
          missing: verify.missing,
          corrupt: verify.corrupt,
        });
      }
      const report = reportOf(await state.reads.reportRows(), {
        objectives: ctx.config.telemetry.objectives,
        now: Date.now,
        verify,
        sources: await sourceUsage(state.usage, ctx.config, Date.now()),
      });
      process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : reportText(report));
      const failures: string[] = [];
      // As `sha256sum -c`: a library with a missing or damaged file fails, --check or not.
      if (verify && verify.missing + verify.corrupt > 0) {
        const first = verify.problems[0];
        failures.push(
          `verify: ${verify.missing} stored file${verify.missing === 1 ? "" : "s"} missing, ${verify.corrupt} corrupt of ${verify.files} checked${first ? ` (first: ${first.problem} ${first.path})` : ""}`,
        );
      }
      const violated = args.check ? report.objectives.filter((o) => o.status === "violated") : [];
      if (violated.length > 0) {
        failures.push(
          `objective${violated.length > 1 ? "s" : ""} violated: ${violated.map((o) => `${o.name} (${o.detail})`).join("; ")}`,
        );
      }
      if (failures.length > 0) throw new RuntimeFailure(failures.join("; "));
    });
  },
});

/** "5%" or "5" → 0.05; null unless a share over 0 and at most 100 %. */
export function parseSample(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  if (!m) return null;
  const pct = Number(m[1]);
  return pct > 0 && pct <= 100 ? pct / 100 : null;
}
