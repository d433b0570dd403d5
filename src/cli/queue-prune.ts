// `docstokg queue prune`: removes old attempt rows (outcomes stay) in short batches, on the SQLite
// state or the fleet's PostgreSQL, while runners keep working. Thin: flags, open, src/store/prune.
import { defineCommand } from "citty";
import { parseDuration } from "../core/duration.ts";
import { openStateDatabase, SchemaTooNewError } from "../store/db.ts";
import { isPostgresUrl, printableDatabaseUrl } from "../store/postgres/connection.ts";
import { pruneAttemptsPostgres } from "../store/postgres/jobs/prune.ts";
import { checkPostgresSchema, LATEST_POSTGRES_VERSION } from "../store/postgres/migrations.ts";
import {
  DEFAULT_PRUNE_BATCH,
  PRUNABLE_STATES,
  type PrunableState,
  type PruneOptions,
  type PruneSummary,
  pruneAttemptsSqlite,
} from "../store/prune.ts";
import { formatCount } from "../telemetry/format.ts";
import { createContext, globalArgs, RuntimeFailure, UsageError } from "./common.ts";
import { withPostgres } from "./state.ts";

/** `--state done,skipped` → the states, each one of PRUNABLE_STATES. */
export function parsePruneStates(value: unknown): PrunableState[] {
  const text = value === undefined ? "done,skipped" : String(value);
  const states = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = states.filter((s) => !(PRUNABLE_STATES as readonly string[]).includes(s));
  if (states.length === 0 || bad.length > 0) {
    throw new UsageError(
      `--state: expected a comma-separated list of ${PRUNABLE_STATES.join(", ")} (queued and in_progress jobs keep their attempts), got ${JSON.stringify(text)}`,
    );
  }
  return [...new Set(states)] as PrunableState[];
}

export const pruneCmd = defineCommand({
  meta: {
    name: "prune",
    description: `Delete attempt rows (one per candidate URL tried) older than DURATION of jobs in the given
terminal states; outcomes, jobs and the stored-URL index stay, so reports, manifests and
"queue show" keep every result (only the per-try history of old jobs goes). Works in batches of
short transactions, safe while runners work; interrupt and run again at any time. On PostgreSQL
the age is measured by the database clock; run VACUUM (autovacuum does) to reuse the space.

Examples:
  docstokg queue prune --attempts-older-than 90d
  docstokg queue prune --attempts-older-than 2w --state done,skipped,error
  docstokg queue prune --attempts-older-than 30d --database-url postgres://docstokg@db.internal/docstokg`,
  },
  args: {
    ...globalArgs,
    "attempts-older-than": {
      type: "string",
      description: "Age of the attempts to delete: a number and s, m, h, d or w (90d)",
      valueHint: "DURATION",
      required: true,
    },
    state: {
      type: "string",
      description: "Jobs whose attempts may go: done, skipped, error [done,skipped]",
      valueHint: "STATES",
    },
    batch: {
      type: "string",
      description: `Attempt ids per transaction [${DEFAULT_PRUNE_BATCH}]`,
      valueHint: "N",
    },
    "database-url": {
      type: "string",
      description: "postgres://… for the fleet's shared database; empty for SQLite in the state directory",
      valueHint: "URL",
    },
  },
  async run({ args }) {
    const olderThanMs = parseDuration(String(args["attempts-older-than"] ?? ""));
    if (olderThanMs === null) {
      throw new UsageError(
        `--attempts-older-than: expected a duration such as 90d, 12h or 2w, got ${JSON.stringify(args["attempts-older-than"])}`,
      );
    }
    const states = parsePruneStates(args.state);
    const batchText = args.batch === undefined ? String(DEFAULT_PRUNE_BATCH) : String(args.batch).trim();
    const batch = Number(batchText);
    if (!/^\d+$/.test(batchText) || batch < 1 || !Number.isSafeInteger(batch))
      throw new UsageError(`--batch: expected a whole number >= 1, got ${JSON.stringify(args.batch)}`);
    const ctx = await createContext(args, { flags: { "database-url": "database_url" } });
    const options: PruneOptions = {
      olderThanMs,
      states,
      batch,
      onBatch: (n) => ctx.log.debug(`pruned ${formatCount(n)} attempt rows so far`),
    };
    let summary: PruneSummary;
    let where: string;
    const url = ctx.config.database_url;
    if (isPostgresUrl(url)) {
      where = `PostgreSQL ${printableDatabaseUrl(url)}`;
      summary = await withPostgres(url, async (sql) => {
        const version = await checkPostgresSchema(sql);
        if (version < LATEST_POSTGRES_VERSION)
          throw new UsageError(
            `${where} is at schema version ${version}, older than this docstokg's ${LATEST_POSTGRES_VERSION}: run "docstokg state migrate" first`,
          );
        return await pruneAttemptsPostgres(sql, options);
      });
    } else {
      where = `SQLite ${ctx.config.state_dir}`;
      let db: ReturnType<typeof openStateDatabase>;
      try {
        db = openStateDatabase(ctx.config.state_dir);
      } catch (error) {
        if (error instanceof SchemaTooNewError) throw new UsageError(error.message);
        throw new RuntimeFailure(
          `cannot open the queue database in ${ctx.config.state_dir}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      try {
        summary = pruneAttemptsSqlite(db, options);
      } finally {
        db.close();
      }
    }
    process.stdout.write(
      `${where}: deleted ${formatCount(summary.deleted)} attempt rows from before ${new Date(summary.before).toISOString()} of jobs in ${states.join(", ")}; outcomes kept\n`,
    );
  },
});
