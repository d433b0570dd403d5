// Publishing a complete temp file into the content-addressed library
// `<out>/<kind>/<sha[0:2]>/<sha[2:4]>/<sha>.<ext>` and its friendly link
// `<out>/by-id/<h[0:2]>/<h[2:4]>/<safe name>.<ext>` (paths: src/library/layout.ts).
// Publishing is a hard link that refuses to overwrite, so of two downloads of identical bytes exactly
// one stores them and the other learns it is a duplicate; nothing is ever copied twice.
import { randomBytes } from "node:crypto";
import * as fsp from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { byIdPath, legacyLibraryPath, libraryPath } from "../library/layout.ts";
import { forEachChunk } from "./stream.ts";
import { type DiskSyncer, poolSyncer } from "./syncer.ts";
import { unlinkQuiet } from "./temp.ts";
import type { StoredKind } from "./types.ts";

export { BY_ID_DIR, byIdName, byIdPath, libraryPath } from "../library/layout.ts";

export interface PublishResult {
  path: string;
  byIdPath: string;
  /** The library already held these bytes; the temp file was dropped. */
  duplicate: boolean;
}

/**
 * Moves a complete temp file into the library (or drops it when identical content is there already,
 * verified by hash), makes the by-id link, and answers once the content and both names are on disk.
 *
 * Flushes overlap: the temp file's data flush (`flushed`, started by the caller as soon as the body
 * is complete) runs while the names are made and their directories flushed; the answer waits for
 * all of them. Publishing a name before its data is durable is safe because nothing trusts a stored
 * name without a record, and a record is only written after this answers: a crash in between can
 * leave a stored file with damaged bytes but no record, and the next download of that content finds
 * it, checks it by SHA-256 and replaces it. The one reader that trusts a stored copy without a record,
 * the duplicate check below, flushes that copy itself before answering.
 */
export async function publishFile(o: {
  outDir: string;
  tempPath: string;
  kind: StoredKind;
  sha256: string;
  bytes: number;
  artifactId: string;
  syncer?: DiskSyncer;
  /** The temp file's data flush; without it the file must already be flushed. */
  flushed?: Promise<void>;
  /** Called once the temp name is removed (the caller may give up its temp slot then). */
  onTempRemoved?: () => Promise<void>;
}): Promise<PublishResult> {
  const syncer = o.syncer ?? poolSyncer;
  let dest = libraryPath(o.outDir, o.kind, o.sha256);
  let duplicate = false;
  let copyFlushed: Promise<void> | undefined;
  // A library not yet migrated (`docstokg library migrate`) may hold these bytes in the legacy
  // layout: one stat keeps them stored once; the migration moves that copy later.
  const legacy = legacyLibraryPath(o.outDir, o.kind, o.sha256);
  if ((await fileSizeOrNull(legacy)) === o.bytes && (await hashFile(legacy)) === o.sha256) {
    dest = legacy;
    duplicate = true;
    copyFlushed = flushFile(dest, syncer);
  }
  const destDir = join(dest, "..");
  try {
    if (!duplicate) await withDir(destDir, () => fsp.link(o.tempPath, dest), syncer);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    // The name promises these bytes; check that the copy there keeps the promise before trusting it.
    if ((await fileSizeOrNull(dest)) === o.bytes && (await hashFile(dest)) === o.sha256) {
      duplicate = true;
      // Another download may have linked it a moment ago and still be flushing it.
      copyFlushed = flushFile(dest, syncer);
    } else {
      // A damaged copy is under this name: replace it atomically with the good bytes.
      await fsp.rename(o.tempPath, dest);
    }
  }
  const link = byIdPath(o.outDir, o.artifactId, o.kind);
  const sharded = libraryPath(o.outDir, o.kind, o.sha256);
  const [, linked] = await Promise.all([
    unlinkQuiet(o.tempPath).then(o.onTempRemoved),
    linkReplacing(dest, link, syncer).catch((e: NodeJS.ErrnoException) => {
      // `library migrate` moved the legacy copy a moment ago: it is under the sharded name now.
      if (e.code !== "ENOENT" || dest === sharded) throw e;
      dest = sharded;
      return linkReplacing(dest, link, syncer);
    }),
  ]);
  // All flushes in parallel: the content, the store directory, the by-id directory.
  await Promise.all([
    o.flushed,
    copyFlushed,
    syncer.fsyncDir(join(dest, "..")),
    linked ? syncer.fsyncDir(join(link, "..")) : undefined,
  ]);
  return { path: dest, byIdPath: link, duplicate };
}

/** Flushes the data of a file given by path. */
async function flushFile(path: string, syncer: DiskSyncer): Promise<void> {
  const handle = await fsp.open(path, "r");
  try {
    await syncer.fdatasync(handle.fd);
  } finally {
    await handle.close();
  }
}

/** Makes (or repoints) the artifact's friendly by-id link to a stored file; returns the link's path. */
export async function linkById(
  outDir: string,
  artifactId: string,
  kind: StoredKind,
  target: string,
  syncer: DiskSyncer = poolSyncer,
): Promise<string> {
  const link = byIdPath(outDir, artifactId, kind);
  if (await linkReplacing(target, link, syncer)) await syncer.fsyncDir(join(link, ".."));
  return link;
}

/**
 * Points `link` at `target`, replacing an older link atomically (link to a temp name, then rename).
 * Returns whether the directory changed (and needs a flush).
 */
async function linkReplacing(target: string, link: string, syncer: DiskSyncer): Promise<boolean> {
  const dir = join(link, "..");
  try {
    await withDir(dir, () => fsp.link(target, link), syncer);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      const [a, b] = await Promise.all([fsp.stat(link), fsp.stat(target)]);
      if (a.ino === b.ino) return false;
    } else if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EXDEV") {
      throw e;
    }
  }
  const temp = `${link}.${randomBytes(6).toString("hex")}.new`;
  try {
    await fsp.link(target, temp);
  } catch {
    // Filesystems without hard links: a relative symlink serves the same purpose.
    await fsp.symlink(relative(dir, target), temp);
  }
  await fsp.rename(temp, link);
  return true;
}

/**
 * Runs a file operation in `dir`, creating the directory only when the operation says it is missing.
 * A directory it creates is flushed into its parent (each level it created), so a name published in
 * it cannot be lost with the directory itself in a crash.
 */
async function withDir(dir: string, op: () => Promise<void>, syncer: DiskSyncer): Promise<void> {
  try {
    await op();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    // The levels this call created; when another download created `dir` a moment ago, its parent is
    // flushed here too, as that download's flush may still be under way.
    const first = resolve(((await fsp.mkdir(dir, { recursive: true })) as string | undefined) ?? dir);
    const created: string[] = [];
    for (let d = resolve(dir); ; d = dirname(d)) {
      created.push(d);
      if (d === first || dirname(d) === d) break;
    }
    await op();
    await Promise.all(created.map((d) => syncer.fsyncDir(dirname(d))));
  }
}

async function fileSizeOrNull(path: string): Promise<number | null> {
  try {
    return (await fsp.stat(path)).size;
  } catch {
    return null;
  }
}

/** SHA-256 of a file, streamed (constant memory); used to verify a stored copy on demand. */
export async function hashFile(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  await forEachChunk(Bun.file(path).stream(), (chunk) => hasher.update(chunk));
  return hasher.digest("hex");
}
