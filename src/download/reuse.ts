// What the library already holds for a candidate's canonical URL, looked up before any request
// (SPEC 6 steps 1 and 3): another artifact's stored file is reused without a request; this
// artifact's own earlier copy is asked for conditionally; an entry whose file is gone or resized is
// dropped and the URL downloaded as if new. The decision is pure; the shell stats and links.
import * as fsp from "node:fs/promises";
import { join } from "node:path";
import { storedPathCandidates } from "../library/layout.ts";
import type { StoredUrl } from "../store/stored-urls.ts";
import { linkById } from "./finalize.ts";
import type { DiskSyncer } from "./syncer.ts";
import type { DownloadSuccess, PriorCopy } from "./types.ts";

/** What reuse needs of a library (src/library/library.ts), without importing it (it imports this module). */
interface ByIdLinker {
  linkById(
    artifactId: string,
    kind: StoredUrl["kind"],
    stored: { path: string; sha256: string; bytes: number; contentType: string },
    syncer?: DiskSyncer,
  ): Promise<string>;
}

export type ReuseDecision =
  /** The file another artifact stored from this URL: link it, send nothing. */
  | { action: "reuse"; entry: StoredUrl; path: string }
  /** This artifact stored it before: a re-fetch, asked with the stored copy's validators. */
  | { action: "conditional"; prior: PriorCopy }
  /** Nothing usable: download; `stale` names an entry to drop first. */
  | { action: "download"; stale?: StoredUrl };

/**
 * `size` is the stored file's size on disk now (undefined: missing). A re-fetch of the same artifact
 * without validators downloads plainly: the operator asked for it again, and there is nothing to
 * ask conditionally with.
 */
export function decideReuse(
  entry: StoredUrl | undefined,
  artifactId: string,
  /** The library directory, or how a recorded path becomes a full path or URL (object stores). */
  locate: string | ((recorded: string) => string),
  size: number | undefined,
): ReuseDecision {
  if (!entry) return { action: "download" };
  if (size !== entry.bytes) return { action: "download", stale: entry };
  const path = typeof locate === "string" ? join(locate, entry.path) : locate(entry.path);
  if (entry.artifactId !== artifactId) return { action: "reuse", entry, path };
  if (!entry.etag && !entry.lastModified) return { action: "download" };
  return {
    action: "conditional",
    prior: {
      path,
      bytes: entry.bytes,
      sha256: entry.sha256,
      etag: entry.etag ?? undefined,
      lastModified: entry.lastModified ?? undefined,
    },
  };
}

/**
 * A recorded library path (relative to `outDir`) as found on disk now: as recorded, else in the
 * other layout (a library being migrated moves files before it rewrites their records), with the
 * size there; undefined when neither is a regular file.
 */
export async function findStored(
  outDir: string,
  recorded: string,
): Promise<{ path: string; size: number } | undefined> {
  for (const path of storedPathCandidates(recorded)) {
    const size = await sizeOnDisk(join(outDir, path));
    if (size !== undefined) return { path, size };
  }
  return undefined;
}

/** Size of the file at `path`, or undefined when it is not a regular file. */
export async function sizeOnDisk(path: string): Promise<number | undefined> {
  try {
    const st = await fsp.stat(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

const CONTENT_TYPES = { pdf: "application/pdf", xml: "application/xml", html: "text/html" } as const;

/**
 * The reused file as a download result (reason `duplicate_content`, `reused`, status 0: no request)
 * with this artifact's by-id link; undefined when the file vanished before it could be linked.
 */
export async function reuseStored(
  library: string | ByIdLinker,
  artifactId: string,
  url: string,
  d: { entry: StoredUrl; path: string },
  syncer?: DiskSyncer,
): Promise<DownloadSuccess | undefined> {
  let byIdPath: string;
  try {
    byIdPath =
      typeof library === "string"
        ? await linkById(library, artifactId, d.entry.kind, d.path, syncer)
        : await library.linkById(
            artifactId,
            d.entry.kind,
            {
              path: d.path,
              sha256: d.entry.sha256,
              bytes: d.entry.bytes,
              contentType: CONTENT_TYPES[d.entry.kind],
            },
            syncer,
          );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  return {
    ok: true,
    reason: "duplicate_content",
    reused: true,
    status: 0,
    resumedFrom: 0,
    timings: { rateWaitMs: 0, headersMs: 0, bodyMs: 0, totalMs: 0 },
    file: {
      sha256: d.entry.sha256,
      bytes: d.entry.bytes,
      contentType: CONTENT_TYPES[d.entry.kind],
      kind: d.entry.kind,
      path: d.path,
      byIdPath,
      url,
      finalUrl: d.entry.url,
      etag: d.entry.etag ?? undefined,
      lastModified: d.entry.lastModified ?? undefined,
    },
  };
}
