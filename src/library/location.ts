// Where the library lives, parsed from `out_dir`: a local directory, or `s3://bucket/prefix` on
// S3-compatible object storage (SPEC 14). Pure: content keys are `prefix/<kind>/<sha[0:2]>/<sha>.<ext>`
// as SPEC 14 fixes them (object stores have no directories to keep small, so the second shard level
// of the on-disk layout buys nothing there); pointer keys shard like the by-id links on disk.
import { resolve } from "node:path";
import { legacyContentRelPath, type StoredKind } from "./layout.ts";

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash; "" for the bucket's root. */
  prefix: string;
}

export const S3_SCHEME = "s3://";

export function isS3Url(text: string): boolean {
  return text.startsWith(S3_SCHEME);
}

/**
 * `s3://bucket/some/prefix` → { bucket, prefix }. Throws a message naming the input and what was
 * expected when the bucket name is not one S3 accepts (3–63 of `a-z 0-9 . -`).
 */
export function parseS3Url(text: string): S3Location {
  if (!isS3Url(text)) throw new Error(`out_dir: expected s3://bucket/prefix, got ${text}`);
  const rest = text.slice(S3_SCHEME.length);
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = (slash < 0 ? "" : rest.slice(slash + 1)).replace(/^\/+|\/+$/g, "");
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new Error(`out_dir: "${bucket}" is not an S3 bucket name (3-63 of a-z, 0-9, '.', '-') in ${text}`);
  if (prefix.split("/").some((part) => part === "" || part === "." || part === ".."))
    throw new Error(`out_dir: the key prefix of ${text} has an empty, '.' or '..' part`);
  return { bucket, prefix };
}

/** A key under the library's prefix: `prefix/rel` (rel uses `/`). */
export function keyOf(loc: S3Location, rel: string): string {
  const r = rel.split("\\").join("/");
  return loc.prefix ? `${loc.prefix}/${r}` : r;
}

/** `s3://bucket/key`, the form outcomes, manifests and exports record. */
export function urlOf(loc: S3Location, key: string): string {
  return `${S3_SCHEME}${loc.bucket}/${key}`;
}

/** The library's location as text: `s3://bucket/prefix`. */
export function locationText(loc: S3Location): string {
  return `${S3_SCHEME}${loc.bucket}${loc.prefix ? `/${loc.prefix}` : ""}`;
}

/** Where `out_dir` puts the library, for operators: `s3://bucket/prefix` or an absolute directory. */
export function describeLibrary(outDir: string): string {
  if (!isS3Url(outDir)) return resolve(outDir);
  try {
    return locationText(parseS3Url(outDir));
  } catch {
    return outDir;
  }
}

/** The content-addressed key, `prefix/pdf/ab/<sha>.pdf` (SPEC 14). */
export function contentKey(loc: S3Location, kind: StoredKind, sha256: string): string {
  return keyOf(loc, legacyContentRelPath(kind, sha256));
}

/**
 * The key a recorded path names: an `s3://` URL of this bucket, or a path relative to the library
 * (the form `stored_urls` keeps). Null for a URL of another bucket or a path that leaves the prefix.
 */
export function keyOfRecorded(loc: S3Location, recorded: string): string | null {
  if (isS3Url(recorded)) {
    const head = `${S3_SCHEME}${loc.bucket}/`;
    return recorded.startsWith(head) ? recorded.slice(head.length) : null;
  }
  if (recorded.startsWith("/") || recorded.split(/[\\/]/).includes("..")) return null;
  return keyOf(loc, recorded);
}
