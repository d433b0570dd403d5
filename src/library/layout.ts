// Where files live in a library directory (SPEC 6 step 6), as pure path arithmetic. Content is
// addressed by SHA-256 two shard levels deep, `<kind>/ab/cd/<sha>.<ext>`, and by-id links by the
// artifact id's hash, `by-id/ab/cd/<slug>-<12 hex>.<ext>`: 65,536 directories per tree keep each
// under ~800 entries at 50 million files. Libraries written before that (`<kind>/ab/<sha>.<ext>`,
// a flat `by-id/`) are the legacy layout, read as a fallback until `docstokg library migrate` runs.
import { createHash } from "node:crypto";
import { join, relative, resolve, sep } from "node:path";

/** Kinds of payload the library stores; each has its own directory and file extension. */
export type StoredKind = "pdf" | "xml" | "html";

export const STORED_KINDS: readonly StoredKind[] = ["pdf", "xml", "html"];
export const BY_ID_DIR = "by-id";
export const EXT: Record<StoredKind, string> = { pdf: "pdf", xml: "xml", html: "html" };

function checkDigest(sha256: string): void {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a SHA-256 hex digest: ${sha256}`);
}

/** `pdf/ab/cd/<sha>.pdf`: where bytes with this SHA-256 live, relative to the library. */
export function contentRelPath(kind: StoredKind, sha256: string): string {
  checkDigest(sha256);
  return join(kind, sha256.slice(0, 2), sha256.slice(2, 4), `${sha256}.${EXT[kind]}`);
}

/** `pdf/ab/<sha>.pdf`: the same bytes in the legacy one-level layout. */
export function legacyContentRelPath(kind: StoredKind, sha256: string): string {
  checkDigest(sha256);
  return join(kind, sha256.slice(0, 2), `${sha256}.${EXT[kind]}`);
}

/** Absolute path of the content-addressed copy of bytes with this SHA-256. */
export function libraryPath(outDir: string, kind: StoredKind, sha256: string): string {
  return join(resolve(outDir), contentRelPath(kind, sha256));
}

export function legacyLibraryPath(outDir: string, kind: StoredKind, sha256: string): string {
  return join(resolve(outDir), legacyContentRelPath(kind, sha256));
}

/**
 * A file name for an artifact id that is safe on any filesystem, readable, stable and unique per id:
 * a slug of the id (letters, digits, `.`, `_`, `-` only; no leading dot, no `..`, bounded length)
 * plus 12 hex digits of the id's SHA-256, so ids that slug alike still get distinct names.
 */
export function byIdName(artifactId: string): string {
  const slug = artifactId
    .normalize("NFKD")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/\.{2,}/g, ".")
    .replace(/_{2,}/g, "_")
    .replace(/^[._-]+|[._-]+$/g, "")
    .slice(0, 80)
    .replace(/[._-]+$/, "");
  const digest = createHash("sha256").update(artifactId, "utf8").digest("hex").slice(0, 12);
  return slug ? `${slug}-${digest}` : digest;
}

const BY_ID_FILE = /(?:^|-)([0-9a-f]{12})\.(pdf|xml|html)$/;

/**
 * The shard of a by-id file name (`ab/cd`, from the id hash the name ends with), or null for a name
 * this program did not write. The hash spreads ids evenly whatever their prefix (`doi_10.` mostly).
 */
export function byIdShard(fileName: string): string | null {
  const m = BY_ID_FILE.exec(fileName);
  if (!m || fileName.includes("/")) return null;
  const h = m[1] as string;
  return join(h.slice(0, 2), h.slice(2, 4));
}

/** Absolute path of an artifact's by-id link, `<out>/by-id/ab/cd/<name>.<ext>`. */
export function byIdPath(outDir: string, artifactId: string, kind: StoredKind): string {
  const root = join(resolve(outDir), BY_ID_DIR);
  const name = `${byIdName(artifactId)}.${EXT[kind]}`;
  const path = join(root, byIdShard(name) as string, name);
  // byIdName cannot produce a separator or `..`; this guards the invariant against future edits.
  const rel = relative(root, path);
  if (rel.startsWith("..") || rel.split(sep).length !== 3)
    throw new Error(`by-id name escapes the library: ${artifactId}`);
  return path;
}

/** The legacy flat by-id link `<out>/by-id/<name>.<ext>`. */
export function legacyByIdPath(outDir: string, artifactId: string, kind: StoredKind): string {
  return join(resolve(outDir), BY_ID_DIR, `${byIdName(artifactId)}.${EXT[kind]}`);
}

const LEGACY_CONTENT = /^(.*?)(pdf|xml|html)\/([0-9a-f]{2})\/(([0-9a-f]{2})[0-9a-f]{62})\.(pdf|xml|html)$/;
const SHARDED_CONTENT =
  /^(.*?)(pdf|xml|html)\/([0-9a-f]{2})\/([0-9a-f]{2})\/(([0-9a-f]{2})([0-9a-f]{2})[0-9a-f]{60})\.(pdf|xml|html)$/;

/**
 * A recorded content path (relative or absolute) rewritten from the legacy layout to the sharded
 * one, or null when it is not a legacy content path (already sharded, a by-id path, anything else).
 */
export function shardedPath(path: string): string | null {
  const m = LEGACY_CONTENT.exec(path);
  if (!m) return null;
  const [, prefix, kind, shard, sha, first, ext] = m as unknown as string[];
  if (shard !== first || EXT[kind as StoredKind] !== ext) return null;
  if (prefix !== "" && !prefix?.endsWith("/")) return null;
  return `${prefix}${kind}/${shard}/${(sha as string).slice(2, 4)}/${sha}.${ext}`;
}

/** The inverse of shardedPath: a sharded content path in the legacy layout, or null. */
export function legacyPath(path: string): string | null {
  const m = SHARDED_CONTENT.exec(path);
  if (!m) return null;
  const [, prefix, kind, s1, s2, sha, f1, f2, ext] = m as unknown as string[];
  if (s1 !== f1 || s2 !== f2 || EXT[kind as StoredKind] !== ext) return null;
  if (prefix !== "" && !prefix?.endsWith("/")) return null;
  return `${prefix}${kind}/${s1}/${sha}.${ext}`;
}

/** Where a recorded content path may be found, in order: as recorded, then in the other layout. */
export function storedPathCandidates(path: string): string[] {
  const other = shardedPath(path) ?? legacyPath(path);
  return other === null ? [path] : [path, other];
}
