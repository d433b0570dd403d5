// Publishing a candidate's file through the Library (src/library: a local directory via finalize.ts,
// or an object store): a received temp file with its data flush overlapping publication, or, on a
// 304, the prior copy checked and linked for the artifact. Store and disk errors propagate.
import type { Library, Published } from "../library/library.ts";
import type { BodySink } from "./stream.ts";
import type { DiskSyncer } from "./syncer.ts";
import { closeFd } from "./temp.ts";
import type { PriorCopy, StoredKind } from "./types.ts";

export interface PublishReceived {
  library: Library;
  syncer: DiskSyncer;
  /** The temp file, complete and classified as kept, with its descriptor still open. */
  tempPath: string;
  fd: number;
  sink: BodySink;
  kind: StoredKind;
  contentType: string;
  bytes: number;
  artifactId: string;
  /** Called once the temp name is gone (nothing can reopen it): the slot is given up then. */
  onTempRemoved: () => Promise<void>;
}

/** Stores the received file; answers once its bytes and names are durable (or uploaded). */
export async function publishReceived(o: PublishReceived): Promise<Published & { sha256: string }> {
  // The data flush runs while the file is published: publication waits for it before it answers,
  // so nothing is reported stored before its bytes and names are on disk (finalize.ts). For an
  // object store the temp file is only read back for the upload: no flush, just close.
  const flushed = o.library.remote ? closeFd(o.fd) : o.syncer.fdatasync(o.fd).finally(() => closeFd(o.fd));
  flushed.catch(() => {}); // awaited by the library, or below when publication fails first
  const sha256 = await o.sink.digest();
  try {
    const published = await o.library.publish({
      tempPath: o.tempPath,
      kind: o.kind,
      sha256,
      bytes: o.bytes,
      artifactId: o.artifactId,
      contentType: o.contentType,
      syncer: o.syncer,
      flushed,
      onTempRemoved: o.onTempRemoved,
    });
    return { ...published, sha256 };
  } finally {
    await flushed.catch(() => {});
  }
}

/** Whether the prior copy a 304 confirms is still stored with its size (and, with `rehash`, its SHA-256). */
export async function priorIsIntact(library: Library, prior: PriorCopy, rehash: boolean): Promise<boolean> {
  if ((await library.size(prior.path)) !== prior.bytes) return false;
  return !rehash || (await library.hash(prior.path)) === prior.sha256;
}

/** Points the artifact's by-id entry at the prior copy; returns the entry's path and the copy's kind. */
export async function linkPrior(
  library: Library,
  syncer: DiskSyncer,
  artifactId: string,
  prior: PriorCopy,
): Promise<{ byIdPath: string; kind: StoredKind; contentType: string }> {
  const kind = kindOfPath(prior.path);
  const contentType = CONTENT_TYPES[kind];
  const byIdPath = await library.linkById(
    artifactId,
    kind,
    { path: prior.path, sha256: prior.sha256, bytes: prior.bytes, contentType },
    syncer,
  );
  return { byIdPath, kind, contentType };
}

const CONTENT_TYPES: Record<StoredKind, string> = {
  pdf: "application/pdf",
  xml: "application/xml",
  html: "text/html",
};

function kindOfPath(path: string): StoredKind {
  if (path.endsWith(".xml")) return "xml";
  if (path.endsWith(".html")) return "html";
  return "pdf";
}
