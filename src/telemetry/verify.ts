// `report --verify`: re-hash every stored file against the SHA-256 recorded for it. The library's
// content-addressed copy of each distinct digest is checked once (in the sharded layout, else the
// legacy one of a library not yet migrated), and each done job's own recorded path when it names
// another file, whatever spelling (relative, absolute, through a symlink) recorded it. Files are
// streamed (constant memory each), a bounded number at once (objects in a store: `s3.concurrency`);
// `sample` and `since` check a share of the files, or those stored lately. The rows (SQLite or
// PostgreSQL, store/reads.ts) are walked in keyset pages so no read transaction stays open while hashing.
import { Database } from "bun:sqlite";
import { realpathSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { hashFile } from "../download/finalize.ts";
import type { StoredKind } from "../download/types.ts";
import { legacyLibraryPath, libraryPath } from "../library/layout.ts";
import type { Library } from "../library/library.ts";
import type { StateReads } from "../store/reads.ts";
import { sqliteReads } from "../store/sqlite/reads.ts";
import { formatBytes, formatCount } from "./format.ts";

export interface VerifyProblem {
  problem: "missing" | "corrupt";
  path: string;
  expected: string;
  /** The digest found (corrupt files); null when missing or when the size alone gave it away. */
  actual: string | null;
}

export interface VerifySummary {
  /** Files checked, their recorded bytes in total, and how they fared. */
  files: number;
  bytes: number;
  ok: number;
  missing: number;
  corrupt: number;
  /** The first problems found (up to `maxProblems`), in the order checked. */
  problems: VerifyProblem[];
}

export interface VerifyProgress {
  checked: number;
  total: number;
  bytes: number;
}

export interface VerifyOptions {
  outDir: string;
  /** An object-store library (src/library/s3.ts); without it, the directory outDir. */
  library?: Library;
  /** Files hashed at once (default 1 on disk, 4 in an object store). */
  concurrency?: number;
  /** Share of the files to check, in (0, 1]; each is drawn with this probability (default all). */
  sample?: number;
  /** Only files of outcomes finished at or after this epoch-ms time. */
  since?: number;
  random?: () => number;
  /** Called after each file (the progress line reads it). */
  onProgress?: (p: VerifyProgress) => void;
  maxProblems?: number;
  signal?: AbortSignal;
}

/** "verifying 1,234/5,000 files (24.7%) · 1.2 GB", for the progress line. */
export function verifyProgressText(p: VerifyProgress): string {
  const pct = p.total > 0 ? ` (${((100 * p.checked) / p.total).toFixed(1)}%)` : "";
  return `verifying ${formatCount(p.checked)}/${formatCount(p.total)} files${pct} · ${formatBytes(p.bytes)}`;
}

/** The library directory of a recorded content type, or null when it is none the library keeps. */
export function kindOfContentType(contentType: string | null): StoredKind | null {
  const t = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (t === "application/pdf") return "pdf";
  if (t === "text/html" || t === "application/xhtml+xml") return "html";
  if (t.endsWith("/xml") || t.endsWith("+xml")) return "xml";
  return null;
}

const PAGE = 500;

/** A path with its directory's symlinks and `.`/`..` resolved, so two spellings of one file compare equal. */
function canonicalPath(path: string): string {
  try {
    return join(realpathSync(dirname(path)), basename(path));
  } catch {
    return resolve(path);
  }
}

/** The content-addressed copy of a digest: the sharded path, or the legacy one when only that exists. */
function contentCopy(outDir: string, kind: StoredKind, sha256: string): string {
  const sharded = libraryPath(outDir, kind, sha256);
  if (exists(sharded)) return sharded;
  const legacy = legacyLibraryPath(outDir, kind, sha256);
  return exists(legacy) ? legacy : sharded;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

export async function verifyLibrary(
  source: Database | StateReads,
  opts: VerifyOptions,
): Promise<VerifySummary> {
  if (opts.sample !== undefined && !(opts.sample > 0 && opts.sample <= 1))
    throw new RangeError(`sample: expected a share in (0, 1], got ${opts.sample}`);
  const lib = opts.library;
  // One spelling of the library for every comparison below.
  const o = { ...opts, outDir: lib ? opts.outDir : canonicalPath(resolve(opts.outDir)) };
  const since = o.since ?? 0;
  const share = o.sample ?? 1;
  const random = o.random ?? Math.random;
  const concurrency = Math.max(1, o.concurrency ?? (lib ? 4 : 1));
  const maxProblems = o.maxProblems ?? 100;
  const summary: VerifySummary = { files: 0, bytes: 0, ok: 0, missing: 0, corrupt: 0, problems: [] };
  // Planned checks; entries that turn out to need none (unknown kind, a link that is the copy, one
  // not drawn for the sample) drop out.
  const reads = source instanceof Database ? sqliteReads(source) : source;
  let total = await reads.verifyTotal(since);

  const inFlight = new Set<Promise<void>>();
  const check = async (path: string, expected: string, bytes: number | null) => {
    if (share < 1 && random() >= share) {
      total--;
      return;
    }
    const run = (async () => {
      const problem = lib
        ? await checkStored(lib, path, expected, bytes)
        : await checkFile(path, expected, bytes);
      summary.files++;
      summary.bytes += bytes ?? 0;
      if (problem === null) summary.ok++;
      else {
        summary[problem.problem]++;
        if (summary.problems.length < maxProblems) summary.problems.push(problem);
      }
      o.onProgress?.({ checked: summary.files, total, bytes: summary.bytes });
    })();
    inFlight.add(run);
    run.finally(() => inFlight.delete(run)).catch(() => {});
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  };

  for (let after = ""; ; ) {
    const page = await reads.digestPage(after, since, PAGE);
    for (const d of page) {
      o.signal?.throwIfAborted();
      const kind = kindOfContentType(d.content_type);
      // Without a known kind the content-addressed name is unknown; the job's own path is checked below.
      if (kind === null) total--;
      else if (lib) await check(lib.contentPath(kind, d.sha256), d.sha256, d.bytes);
      else await check(contentCopy(o.outDir, kind, d.sha256), d.sha256, d.bytes);
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]?.sha256 ?? after;
  }

  for (let after = 0; ; ) {
    const page = await reads.linkPage(after, since, PAGE);
    for (const l of page) {
      o.signal?.throwIfAborted();
      const kind = kindOfContentType(l.content_type);
      if (lib) {
        // In an object store an outcome records the content-addressed URL itself: checked above.
        const url = lib.locate(l.path);
        if (kind !== null && url === lib.contentPath(kind, l.sha256)) total--;
        else await check(url, l.sha256, l.bytes);
        continue;
      }
      let path = resolve(o.outDir, l.path);
      // The content copy checked above, in either layout and however the row spelled it.
      const isCopy = (p: string) =>
        kind !== null &&
        (p === libraryPath(o.outDir, kind, l.sha256) || p === legacyLibraryPath(o.outDir, kind, l.sha256));
      if (!isCopy(path)) path = canonicalPath(path);
      if (isCopy(path)) {
        total--;
        continue;
      }
      await check(path, l.sha256, l.bytes);
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]?.seq ?? after;
  }
  await Promise.all(inFlight);
  return summary;
}

/** checkFile for a library's stored copy (an object: HEAD for its size, then streamed through SHA-256). */
export async function checkStored(
  lib: Library,
  path: string,
  expected: string,
  bytes: number | null,
): Promise<VerifyProblem | null> {
  const size = await lib.size(path);
  if (size === undefined) return { problem: "missing", path, expected, actual: null };
  if (bytes !== null && size !== bytes) return { problem: "corrupt", path, expected, actual: null };
  const actual = await lib.hash(path);
  return actual === expected ? null : { problem: "corrupt", path, expected, actual };
}

/** null when the file is there with the recorded digest; else what is wrong with it. */
export async function checkFile(
  path: string,
  expected: string,
  bytes: number | null,
): Promise<VerifyProblem | null> {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return { problem: "missing", path, expected, actual: null };
  }
  // A size that differs from the recorded one settles it without reading the file.
  if (bytes !== null && size !== bytes) return { problem: "corrupt", path, expected, actual: null };
  let actual: string;
  try {
    actual = await hashFile(path);
  } catch {
    return { problem: "missing", path, expected, actual: null };
  }
  return actual === expected ? null : { problem: "corrupt", path, expected, actual };
}

/** The SQLite statement behind the digest pages (its plan is tested). */
export { DIGESTS } from "../store/sqlite/reads.ts";
