// `docstokg library migrate`: moves an existing library to the sharded layout and rewrites the paths
// recorded in the state database. Thin: check the flags, open the database, run src/library/migrate.ts
// with a progress line (a log record per batch in JSON log mode), print the summary.

import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { defineCommand } from "citty";
import { isS3Url } from "../library/location.ts";
import { type MigrateProgress, migrateLibrary } from "../library/migrate.ts";
import { databasePath, openStateDatabase, SchemaTooNewError } from "../store/db.ts";
import { formatCount } from "../telemetry/format.ts";
import { CLEAR_LINE } from "../telemetry/progress.ts";
import { createContext, globalArgs, RuntimeFailure, UsageError } from "./common.ts";
import { refusePostgres } from "./state-db.ts";

function progressText(p: MigrateProgress): string {
  return `migrating the library: ${formatCount(p.files)} files, ${formatCount(p.links)} by-id links moved, ${formatCount(p.records)} records rewritten (${p.phase})`;
}

const migrateCmd = defineCommand({
  meta: {
    name: "migrate",
    description: `Move a library written in the legacy layout (<kind>/ab/<sha>.<ext>, a flat by-id/) to the
sharded one (<kind>/ab/cd/<sha>.<ext>, by-id/ab/cd/<name>), and rewrite the paths recorded in the
state database (outcomes, stored URLs) in batches. Safe to interrupt and to run again: it continues
where it stopped, and does nothing on a library already migrated. Runners and readers find files in
either layout meanwhile, so they may keep working.

Examples:
  docstokg library migrate --out /srv/docstokg/library --state-dir /var/lib/docstokg/state
  docstokg library migrate --config /etc/docstokg/docstokg.toml --batch 5000`,
  },
  args: {
    ...globalArgs,
    batch: {
      type: "string",
      description: "Files moved (or records rewritten) per batch, flushed and reported together [1000]",
      valueHint: "N",
    },
  },
  async run({ args }) {
    const batchText = args.batch === undefined ? "1000" : String(args.batch).trim();
    const batch = Number(batchText);
    if (!/^\d+$/.test(batchText) || !Number.isSafeInteger(batch) || batch < 1) {
      throw new UsageError(`--batch: expected a whole number >= 1, got ${JSON.stringify(args.batch)}`);
    }
    const ctx = await createContext(args);
    // The recorded paths it rewrites would be the SQLite ones, not the fleet's.
    refusePostgres(
      ctx.config,
      "library migrate",
      "files in the legacy layout keep being found where they are",
    );
    const out = ctx.config.out_dir;
    if (isS3Url(out))
      throw new UsageError(
        `--out: ${out} is an object store; its keys are written in the sharded layout already`,
      );
    if (!existsSync(out)) throw new UsageError(`--out: no library at ${out} (set --out or out_dir)`);
    let db: Database | undefined;
    if (existsSync(databasePath(ctx.config.state_dir))) {
      try {
        db = openStateDatabase(ctx.config.state_dir);
      } catch (error) {
        if (error instanceof SchemaTooNewError) throw new UsageError(error.message);
        throw new RuntimeFailure(
          `cannot open the queue database in ${ctx.config.state_dir}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    } else {
      ctx.log.warn(
        `no queue database in ${ctx.config.state_dir}: moving files only, no recorded paths to rewrite`,
      );
    }
    const tty = process.stderr.isTTY === true;
    try {
      const summary = await migrateLibrary({
        outDir: out,
        db,
        batch,
        onProgress: (p) => {
          if (tty) process.stderr.write(`${CLEAR_LINE}${progressText(p)}`);
          else ctx.log.info("migrating the library", { ...p });
        },
      });
      if (tty) process.stderr.write(CLEAR_LINE);
      if (summary.unknown > 0) {
        ctx.log.warn(
          `${summary.unknown} entries in the library's directories were not written by docstokg and were left alone`,
        );
      }
      process.stdout.write(
        `library ${out} is in the sharded layout: moved ${formatCount(summary.files)} files and ${formatCount(summary.links)} by-id links, rewrote ${formatCount(summary.records)} recorded paths\n`,
      );
    } finally {
      db?.close();
    }
  },
});

export const libraryCommand = defineCommand({
  meta: { name: "library", description: "Maintain the library directory: move it to the current layout." },
  subCommands: { migrate: migrateCmd },
});
