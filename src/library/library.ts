// The library as the download pipeline, reuse and `report --verify` see it: a local directory
// (hard links, fsyncs: download/finalize.ts) or a bucket prefix on S3-compatible object storage
// (s3.ts). Paths handed out are absolute paths or `s3://bucket/key` URLs; `record` turns one into
// what outcomes and the URL index keep (relative to a local library, the URL itself on S3).
import { isAbsolute, join, relative, resolve } from "node:path";
import { hashFile, linkById as linkLocal, publishFile } from "../download/finalize.ts";
import { findStored, sizeOnDisk } from "../download/reuse.ts";
import type { DiskSyncer } from "../download/syncer.ts";
import { libraryPath, type StoredKind } from "./layout.ts";
import { isS3Url } from "./location.ts";

export interface PublishRequest {
  tempPath: string;
  kind: StoredKind;
  sha256: string;
  bytes: number;
  artifactId: string;
  contentType: string;
  syncer?: DiskSyncer;
  /** The temp file's data flush (local libraries wait for it before answering). */
  flushed?: Promise<void>;
  /** Called once the temp name is removed. */
  onTempRemoved?: () => Promise<void>;
}

export interface Published {
  /** The content-addressed copy (absolute path or s3:// URL). */
  path: string;
  /** The artifact's by-id link (local) or pointer object (S3). */
  byIdPath: string;
  /** The library already held these bytes. */
  duplicate: boolean;
}

/** What a by-id entry points at. */
export interface StoredRef {
  path: string;
  sha256: string;
  bytes: number;
  contentType: string;
}

export interface Library {
  /** Shown to operators: the directory's absolute path, or `s3://bucket/prefix`. */
  readonly location: string;
  readonly remote: boolean;
  /** Directory under which download temp files live (`<base>/.tmp/`): the library, or state_dir for S3. */
  readonly tempBase: string;
  /** Stores a complete temp file; answers once the copy and its by-id entry are durable. */
  publish(o: PublishRequest): Promise<Published>;
  /** Makes (or repoints) an artifact's by-id entry at a stored copy; returns the entry's path. */
  linkById(artifactId: string, kind: StoredKind, stored: StoredRef, syncer?: DiskSyncer): Promise<string>;
  /** The absolute path or URL of a recorded path. */
  locate(recorded: string): string;
  /** A recorded path as found now (in either layout on disk), with its size; undefined when missing. */
  find(recorded: string): Promise<{ path: string; size: number } | undefined>;
  /** Size of a stored copy (absolute path or URL); undefined when missing. */
  size(path: string): Promise<number | undefined>;
  /** SHA-256 of a stored copy, streamed. */
  hash(path: string): Promise<string>;
  /** Where bytes of this digest are stored (absolute path or URL). */
  contentPath(kind: StoredKind, sha256: string): string;
}

/** The path an outcome records for a stored file: relative to a local library (it can move), else the URL. */
export function recordedPath(outDir: string, path: string): string {
  return isS3Url(path) ? path : relative(outDir, path);
}

/** A library directory on a local filesystem. */
export function localLibrary(outDir: string, defaultSyncer?: DiskSyncer): Library {
  return {
    location: resolve(outDir),
    remote: false,
    tempBase: outDir,
    publish: (o) =>
      publishFile({ ...o, outDir, syncer: o.syncer ?? defaultSyncer }).then((r) => ({
        path: r.path,
        byIdPath: r.byIdPath,
        duplicate: r.duplicate,
      })),
    linkById: (artifactId, kind, stored, syncer) =>
      linkLocal(outDir, artifactId, kind, stored.path, syncer ?? defaultSyncer),
    locate: (recorded) => (isAbsolute(recorded) ? recorded : join(outDir, recorded)),
    find: (recorded) => findStored(outDir, recorded),
    size: sizeOnDisk,
    hash: hashFile,
    contentPath: (kind, sha256) => libraryPath(outDir, kind, sha256),
  };
}
