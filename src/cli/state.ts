// `docstokg state …`: the state database itself — migrate it explicitly (SQLite in state_dir, or the
// fleet's PostgreSQL), and copy a SQLite state into PostgreSQL when an install grows into a fleet.
// Thin: flags, open, call src/store, print.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { SQL } from "bun";
import { defineCommand } from "citty";
import {
  databasePath,
  openDatabaseReadOnly,
  openStateDatabase,
  SchemaTooNewError,
  schemaVersion,
} from "../store/db.ts";
import { MIGRATIONS } from "../store/migrations.ts";
import { isPostgresUrl, openPostgres, printableDatabaseUrl } from "../store/postgres/connection.ts";
import { copySqliteToPostgres, copyVerified } from "../store/postgres/copy-sqlite.ts";
import {
  DatabaseTooNewError,
  LATEST_POSTGRES_VERSION,
  migratePostgres,
  postgresSchemaVersion,
} from "../store/postgres/migrations.ts";
import { formatCount } from "../telemetry/format.ts";
import { createContext, globalArgs, RuntimeFailure, UsageError } from "./common.ts";

const databaseUrlArg = {
  "database-url": {
    type: "string",
    description: "postgres://… for the fleet's shared database; empty for SQLite in the state directory",
    valueHint: "URL",
  },
} as const;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Run `work` on a pool of one connection to `url`; an unreachable server is a runtime failure. */
export async function withPostgres<T>(url: string, work: (sql: SQL) => Promise<T>): Promise<T> {
  const sql = openPostgres(url, { max: 1 });
  try {
    return await work(sql);
  } catch (error) {
    if (error instanceof DatabaseTooNewError) throw new UsageError(error.message);
    if (error instanceof UsageError || error instanceof RuntimeFailure) throw error;
    throw new RuntimeFailure(`PostgreSQL ${printableDatabaseUrl(url)}: ${message(error)}`);
  } finally {
    await sql.close();
  }
}

const SQLITE_LATEST = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

function versionsLine(where: string, before: number, after: number, known: number): string {
  const change =
    before === after
      ? `at schema version ${after} (nothing to apply)`
      : `migrated from schema version ${before} to ${after}`;
  const newer =
    after > known ? `; newer than this docstokg (${known}), which the migrations since allow` : "";
  return `${where}: ${change}; this docstokg knows versions up to ${known}${newer}\n`;
}

const migrateCmd = defineCommand({
  meta: {
    name: "migrate",
    description: `Bring the state database to this docstokg's schema: the SQLite file in the state directory,
or the PostgreSQL database of database_url. Prints the version before and after. A database newer
than this docstokg is refused (exit 2), as every runner and command refuses it.

Rolling upgrades of a fleet (N servers on one PostgreSQL):
  1. Install the new binary on one server and run "docstokg state migrate" there once (migrations
     run in one transaction under a lock; running it twice is harmless).
  2. Restart the runners one server at a time. Older runners keep working on the migrated database
     when every migration since their version is marked as allowing older programs (additive:
     new tables, nullable columns, indexes); they refuse it otherwise (exit 2) — then stop the
     fleet, migrate, and start it again on the new binary.
  Back up the database before migrating (pg_dump). Migrations never run backwards.

Examples:
  docstokg state migrate --state-dir /var/lib/docstokg/state
  DOCSTOKG_DATABASE_URL_FILE=/etc/docstokg/database-url docstokg state migrate
  docstokg state migrate --database-url postgres://docstokg@db.internal/docstokg`,
  },
  args: { ...globalArgs, ...databaseUrlArg },
  async run({ args }) {
    const ctx = await createContext(args, { flags: { "database-url": "database_url" } });
    const url = ctx.config.database_url;
    if (isPostgresUrl(url)) {
      await withPostgres(url, async (sql) => {
        const before = await postgresSchemaVersion(sql);
        await migratePostgres(sql);
        const after = await postgresSchemaVersion(sql);
        process.stdout.write(
          versionsLine(`PostgreSQL ${printableDatabaseUrl(url)}`, before, after, LATEST_POSTGRES_VERSION),
        );
      });
      return;
    }
    const path = databasePath(ctx.config.state_dir);
    let before = 0;
    if (existsSync(path)) {
      try {
        const db = openDatabaseReadOnly(path);
        before = schemaVersion(db);
        db.close();
      } catch (error) {
        if (error instanceof SchemaTooNewError) throw new UsageError(error.message);
        // Older than this program (the usual case here): read the version without the check.
        const { Database } = await import("bun:sqlite");
        const db = new Database(path, { readonly: true });
        before = schemaVersion(db);
        db.close();
      }
    }
    let after: number;
    try {
      const db = openStateDatabase(ctx.config.state_dir);
      after = schemaVersion(db);
      db.close();
    } catch (error) {
      if (error instanceof SchemaTooNewError) throw new UsageError(error.message);
      throw new RuntimeFailure(`cannot migrate the queue database ${path}: ${message(error)}`);
    }
    process.stdout.write(versionsLine(`SQLite ${path}`, before, after, SQLITE_LATEST));
  },
});

function parseWhole(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const text = String(value).trim();
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${flag}: expected a whole number >= 1, got ${JSON.stringify(value)}`);
  return n;
}

/** The URL of --to, or the text of the --to-file file; exactly one of them. */
async function copyTarget(to: unknown, file: unknown): Promise<string> {
  const given = (v: unknown): v is string => typeof v === "string" && v !== "";
  if (given(to) === given(file))
    throw new UsageError(
      "state copy: give the PostgreSQL database as --to URL or --to-file FILE (one of them)",
    );
  if (given(to)) return to;
  try {
    return (await Bun.file(file as string).text()).replace(/[\r\n]+$/, "");
  } catch (error) {
    throw new UsageError(`--to-file: cannot read ${String(file)}: ${message(error)}`);
  }
}

const copyCmd = defineCommand({
  meta: {
    name: "copy",
    description: `Copy a SQLite state (jobs with their attempts and outcomes, the stored-URL index, settings)
into a PostgreSQL database, migrating it first. Ids and outcome numbers are kept. Each batch is one
transaction and rows already there are left alone, so an interrupted copy resumes where it stopped
when run again, and a repeat copies nothing twice. At the end both sides are counted per table and a
sample of rows is compared by checksum; a difference is an error (exit 1).

Stop the runners of the SQLite state first: rows that change after they were copied are not copied
again. Host politeness state, caches and robots verdicts are not copied; they rebuild themselves.

Examples:
  docstokg state copy --to postgres://docstokg@db.internal/docstokg
  sudo docstokg state copy --from-state-dir /var/lib/docstokg/state \\
    --to-file /etc/docstokg/credentials/DOCSTOKG_DATABASE_URL`,
  },
  args: {
    ...globalArgs,
    to: { type: "string", description: "The PostgreSQL database to copy into", valueHint: "URL" },
    "to-file": {
      type: "string",
      description: "A file holding that URL (keeps its password out of the process list)",
      valueHint: "FILE",
    },
    "from-state-dir": {
      type: "string",
      description: "The state directory whose queue.db is copied [state_dir]",
      valueHint: "DIR",
    },
    batch: { type: "string", description: "Rows per batch (one transaction each) [5000]", valueHint: "N" },
    sample: { type: "string", description: "Rows per table compared by checksum [20]", valueHint: "N" },
  },
  async run({ args }) {
    const to = await copyTarget(args.to, args["to-file"]);
    if (!isPostgresUrl(to))
      throw new UsageError(
        `--to: expected a postgres:// or postgresql:// URL, got ${JSON.stringify(printableDatabaseUrl(to))}`,
      );
    const batch = parseWhole(args.batch, "--batch", 5_000);
    const sample = parseWhole(args.sample, "--sample", 20);
    const ctx = await createContext(args);
    const stateDir =
      typeof args["from-state-dir"] === "string" && args["from-state-dir"] !== ""
        ? args["from-state-dir"]
        : ctx.config.state_dir;
    const path = databasePath(stateDir);
    let db: ReturnType<typeof openDatabaseReadOnly>;
    try {
      db = openDatabaseReadOnly(path);
    } catch (error) {
      if (error instanceof SchemaTooNewError) throw new UsageError(error.message);
      throw new UsageError(
        `--from-state-dir: cannot read ${path}: ${message(error)} (run "docstokg state migrate --state-dir ${stateDir}" first if it is older)`,
      );
    }
    try {
      await withPostgres(to, async (sql) => {
        await migratePostgres(sql);
        const report = await copySqliteToPostgres(db, sql, {
          batch,
          sample,
          onProgress: (table, n) => ctx.log.debug(`copied ${formatCount(n)} rows of ${table}`),
        });
        const lines = [
          `copied ${resolve(path)} → ${printableDatabaseUrl(to)}`,
          "table          sqlite    postgres  copied now  sample  checksum (sqlite / postgres)",
        ];
        for (const t of report.tables) {
          const s = report.samples.find((x) => x.table === t.table);
          lines.push(
            `${t.table.padEnd(12)} ${formatCount(t.sqlite).padStart(9)} ${formatCount(t.postgres).padStart(11)} ${formatCount(t.copied).padStart(11)} ${String(s?.rows ?? 0).padStart(7)}  ${s?.sqliteChecksum} / ${s?.postgresChecksum}`,
          );
        }
        process.stdout.write(`${lines.join("\n")}\n`);
        if (!copyVerified(report)) {
          const bad = report.samples.flatMap((s) => s.mismatches.slice(0, 5).map((k) => `${s.table} ${k}`));
          const counts = report.tables.filter((t) => t.sqlite !== t.postgres).map((t) => t.table);
          throw new RuntimeFailure(
            `the copy does not match: ${counts.length > 0 ? `row counts differ in ${counts.join(", ")}` : ""}${counts.length > 0 && bad.length > 0 ? "; " : ""}${bad.length > 0 ? `sampled rows differ (${bad.join(", ")})` : ""} — was the SQLite state still changing, or the database already used by another install?`,
          );
        }
        process.stdout.write(
          "verified: every table has the same number of rows on both sides and the sampled rows match\n",
        );
      });
    } finally {
      db.close();
    }
  },
});

export const stateCommand = defineCommand({
  meta: {
    name: "state",
    description: "The state database: migrate it explicitly, copy a SQLite state into PostgreSQL.",
  },
  subCommands: { migrate: migrateCmd, copy: copyCmd },
});
