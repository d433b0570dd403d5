// `docstokg library migrate`: moves a library from the legacy layout (`<kind>/ab/<sha>.<ext>`, a flat
// `by-id/`) to the sharded one (layout.ts), then rewrites the paths recorded in the database
// (outcomes, stored_urls; the statements are store/sqlite/library-paths.ts) in batches. Every step
// is a rename or a link that is safe to repeat, so a run that is killed is simply run again; readers
// find a file in either layout meanwhile.
import type { Database } from "bun:sqlite";
import { constants, type Dirent } from "node:fs";
import * as fsp from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import {
  type PathTable,
  type RecordedPath,
  recordedPathPage,
  rewriteRecordedPaths,
} from "../store/sqlite/library-paths.ts";
import { BY_ID_DIR, byIdShard, contentRelPath, EXT, STORED_KINDS, shardedPath } from "./layout.ts";

export interface MigrateProgress {
  phase: "content" | "by-id" | "records";
  /** Content files and by-id links moved so far, records rewritten so far. */
  files: number;
  links: number;
  records: number;
}

export interface MigrateSummary extends MigrateProgress {
  /** Entries of the legacy directories this program did not write (left where they are). */
  unknown: number;
}

export interface MigrateOptions {
  outDir: string;
  /** The state database whose recorded paths are rewritten; without it only files move. */
  db?: Database;
  /** Files moved (or rows rewritten) between two progress reports and directory flushes. */
  batch?: number;
  onProgress?: (p: MigrateProgress) => void;
  signal?: AbortSignal;
}

const HEX2 = /^[0-9a-f]{2}$/;

/** Flushes directories whose entries changed, so a move survives a crash once reported. */
async function flushDirs(dirs: Set<string>): Promise<void> {
  await Promise.all(
    [...dirs].map(async (d) => {
      const h = await fsp.open(d, constants.O_RDONLY | constants.O_DIRECTORY).catch(() => undefined);
      if (!h) return;
      try {
        await h.sync();
      } finally {
        await h.close();
      }
    }),
  );
  dirs.clear();
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await fsp.stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export async function migrateLibrary(o: MigrateOptions): Promise<MigrateSummary> {
  const out = resolve(o.outDir);
  const batch = Math.max(1, o.batch ?? 1000);
  const s: MigrateSummary = { phase: "content", files: 0, links: 0, records: 0, unknown: 0 };
  const touched = new Set<string>();
  const made = new Set<string>();
  let sinceReport = 0;
  const step = async () => {
    if (++sinceReport < batch) return;
    sinceReport = 0;
    await flushDirs(touched);
    o.onProgress?.({ phase: s.phase, files: s.files, links: s.links, records: s.records });
  };
  const ensureDir = async (dir: string) => {
    if (made.has(dir)) return;
    const first = await fsp.mkdir(dir, { recursive: true });
    // A directory created here is an entry of its parent: flushed with the batch.
    if (first) for (let d = dir; d.length >= first.length; d = dirname(d)) touched.add(dirname(d));
    made.add(dir);
  };

  // 1. Content: <kind>/ab/<sha>.<ext> → <kind>/ab/cd/<sha>.<ext>. A rename is atomic, and replacing a
  //    copy published meanwhile under the new name changes nothing (same bytes; links keep theirs).
  for (const kind of STORED_KINDS) {
    const kindDir = join(out, kind);
    if (!(await isDir(kindDir))) continue;
    for (const shard of (await fsp.readdir(kindDir)).filter((n) => HEX2.test(n)).sort()) {
      const shardDir = join(kindDir, shard);
      if (!(await isDir(shardDir))) continue;
      const name = new RegExp(`^${shard}[0-9a-f]{62}\\.${EXT[kind]}$`);
      for await (const entry of await fsp.opendir(shardDir)) {
        o.signal?.throwIfAborted();
        if (entry.isDirectory()) continue;
        if (!entry.isFile() || !name.test(entry.name)) {
          s.unknown++;
          continue;
        }
        const target = join(out, contentRelPath(kind, entry.name.slice(0, 64)));
        await ensureDir(dirname(target));
        await fsp.rename(join(shardDir, entry.name), target);
        touched.add(shardDir).add(dirname(target));
        s.files++;
        await step();
      }
    }
  }

  // 2. by-id: by-id/<name> → by-id/ab/cd/<name>. A link made meanwhile under the new name is newer
  //    (a re-download repointed it) and wins; the legacy one is dropped.
  s.phase = "by-id";
  const byIdDir = join(out, BY_ID_DIR);
  if (await isDir(byIdDir)) {
    for await (const entry of await fsp.opendir(byIdDir)) {
      o.signal?.throwIfAborted();
      if (entry.isDirectory()) continue;
      const shard = byIdShard(entry.name);
      if (shard === null || !(entry.isFile() || entry.isSymbolicLink())) {
        s.unknown++;
        continue;
      }
      const from = join(byIdDir, entry.name);
      const target = join(byIdDir, shard, entry.name);
      await ensureDir(dirname(target));
      await moveLink(from, target, entry);
      touched.add(byIdDir).add(dirname(target));
      s.links++;
      await step();
    }
  }
  await flushDirs(touched);

  // 3. Records: recorded content paths follow their files, in batches of `batch` rows.
  s.phase = "records";
  if (o.db) {
    const report = (n: number) =>
      o.onProgress?.({ phase: s.phase, files: s.files, links: s.links, records: s.records + n });
    s.records += rewriteRows(o, batch, { table: "outcomes", key: "seq" }, report);
    s.records += rewriteRows(o, batch, { table: "stored_urls", key: "url" }, report);
  }
  o.onProgress?.({ phase: s.phase, files: s.files, links: s.links, records: s.records });
  return s;
}

/** Moves one legacy by-id entry; a symlink (filesystems without hard links) is re-aimed from its new place. */
async function moveLink(from: string, target: string, entry: Dirent): Promise<void> {
  if (entry.isSymbolicLink()) {
    const aimed = resolve(dirname(from), await fsp.readlink(from));
    const content = shardedPath(aimed) ?? aimed;
    try {
      await fsp.symlink(relative(dirname(target), content), target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  } else {
    try {
      await fsp.link(from, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  await fsp.unlink(from);
}

/** Rewrites legacy content paths of one table, a page of rows per transaction; returns rows changed. */
function rewriteRows(
  o: MigrateOptions,
  batch: number,
  t: PathTable,
  onBatch: (changed: number) => void,
): number {
  const db = o.db as Database;
  let changed = 0;
  for (let after: number | string = t.key === "seq" ? 0 : ""; ; ) {
    o.signal?.throwIfAborted();
    const rows = recordedPathPage(db, t, after, batch);
    const rewrites = rows.flatMap((r) => {
      const to = shardedPath(r.path);
      return to === null ? [] : [{ k: r.k, from: r.path, to }];
    });
    changed += rewriteRecordedPaths(db, t, rewrites);
    if (rows.length < batch) break;
    after = (rows[rows.length - 1] as RecordedPath).k;
    onBatch(changed);
  }
  return changed;
}
