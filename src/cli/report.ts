// `docstokg report`: run summary and service-level indicators. Thin: open the state database,
// optionally re-hash the library with a progress line, build the report, print it; exit 1 when
// --verify found a missing or corrupt file, and with --check naming each violated objective.
import { defineCommand } from "citty";
import { sourceUsage } from "../quota/gate.ts";
import { CLEAR_LINE } from "../telemetry/progress.ts";
import { buildReport } from "../telemetry/report.ts";
import { reportText } from "../telemetry/report-text.ts";
import { OBJECTIVE_HELP } from "../telemetry/sli.ts";
import { type VerifyProgress, verifyLibrary, verifyProgressText } from "../telemetry/verify.ts";
import { createContext, globalArgs, RuntimeFailure } from "./common.ts";
import { openExistingState } from "./state-db.ts";

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
  docstokg report --check --verify`,
  },
  args: {
    ...globalArgs,
    json: { type: "boolean", description: "Print JSON (version 1, fields in the README)" },
    check: { type: "boolean", description: "Exit 1 when an objective is violated" },
    verify: {
      type: "boolean",
      description:
        "Re-hash every stored file against its recorded SHA-256; exit 1 if any is missing or corrupt",
    },
  },
  async run({ args }) {
    const ctx = await createContext(args);
    const db = openExistingState(ctx.config.state_dir);
    try {
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
          verify = await verifyLibrary(db, {
            outDir: ctx.config.out_dir,
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
      const report = buildReport(db, {
        objectives: ctx.config.telemetry.objectives,
        now: Date.now,
        verify,
        sources: sourceUsage(db, ctx.config, Date.now()),
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
    } finally {
      db.close();
    }
  },
});
