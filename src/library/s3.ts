// The library on S3-compatible object storage through Bun's built-in client (SPEC 14). A complete
// temp file is uploaded to its content-addressed key (one PUT below `s3.part_size_mb`, else a
// multipart upload whose parts in memory are bounded library-wide: multipart.ts), unless an object
// of that size is there already; it counts as stored once the store has answered for its size.
// Per-work pointer objects `by-id/ab/cd/<slug>.json` take the place of by-id links. Every store
// error is retried with backoff; what is left after that is a StoreUnavailableError.
import { createHash, randomBytes } from "node:crypto";
import type { S3Credentials } from "../config/env.ts";
import type { Config } from "../config/schema.ts";
import { REDACTED } from "../core/redact.ts";
import { forEachChunk } from "../download/stream.ts";
import { unlinkQuiet } from "../download/temp.ts";
import { BY_ID_DIR, byIdName, type StoredKind } from "./layout.ts";
import type { Library, Published, PublishRequest, StoredRef } from "./library.ts";
import {
  contentKey,
  keyOf,
  keyOfRecorded,
  locationText,
  parseS3Url,
  type S3Location,
  urlOf,
} from "./location.ts";
import { PartSlots, uploadInParts } from "./multipart.ts";

/** The object store could not be reached or refused to work after retries: not the work's fault. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}

export function isStoreUnavailable(e: unknown): e is StoreUnavailableError {
  return e instanceof StoreUnavailableError;
}

/** The per-work pointer object's body (SPEC 14). */
export interface Pointer {
  artifact_id: string;
  sha256: string;
  key: string;
  bytes: number;
  content_type: string;
}

export interface RetryPolicy {
  /** Tries per operation, the first included. */
  attempts: number;
  baseMs: number;
  capMs: number;
  /** Longest wait for one small request (HEAD, pointer PUT, delete). */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 200, capMs: 10_000, timeoutMs: 60_000 };

/** S3 error codes that no retry can fix: the configuration or the credentials are wrong. */
const PERMANENT_CODES = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "AccessDenied",
  "NoSuchBucket",
  "InvalidBucketName",
  "AuthorizationHeaderMalformed",
  "ExpiredToken",
  "InvalidToken",
  "ERR_S3_MISSING_CREDENTIALS",
  "ERR_S3_INVALID_ENDPOINT",
]);

/** Whether another try may succeed: throttling, 5xx, resets and timeouts may; refused credentials may not. */
export function isTransientStoreError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return !(typeof code === "string" && PERMANENT_CODES.has(code));
}

/** Full-jitter exponential backoff before try `n` (1-based). */
export function backoffMs(n: number, p: RetryPolicy, random: () => number = Math.random): number {
  return Math.round(random() * Math.min(p.capMs, p.baseMs * 2 ** (n - 1)));
}

export interface S3LibraryOptions {
  config: Pick<Config, "out_dir" | "state_dir" | "s3">;
  credentials: S3Credentials;
  retry?: RetryPolicy;
}

const MIB = 1024 * 1024;

export class S3Library implements Library {
  readonly location: string;
  readonly remote = true;
  readonly tempBase: string;
  readonly loc: S3Location;
  private readonly client: Bun.S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;
  /** Parts held in memory by all multipart uploads of this library together. */
  private readonly slots: PartSlots;
  private readonly retry: RetryPolicy;
  private readonly secrets: string[];

  constructor(o: S3LibraryOptions) {
    this.loc = parseS3Url(o.config.out_dir);
    this.location = locationText(this.loc);
    this.tempBase = o.config.state_dir;
    this.partSize = o.config.s3.part_size_mb * MIB;
    this.queueSize = o.config.s3.concurrency;
    this.slots = new PartSlots(o.config.s3.concurrency);
    this.retry = o.retry ?? DEFAULT_RETRY;
    const s3 = o.config.s3;
    const pathStyle = s3.force_path_style ?? s3.endpoint !== undefined;
    let endpoint = s3.endpoint;
    // Bun's virtual-hosted style takes the bucket from the endpoint's host name.
    if (!pathStyle && endpoint !== undefined) {
      const u = new URL(endpoint);
      u.hostname = `${this.loc.bucket}.${u.hostname}`;
      endpoint = u.toString().replace(/\/$/, "");
    }
    this.client = new Bun.S3Client({
      accessKeyId: o.credentials.accessKeyId,
      secretAccessKey: o.credentials.secretAccessKey,
      sessionToken: o.credentials.sessionToken,
      bucket: this.loc.bucket,
      region: s3.region ?? "us-east-1",
      endpoint,
      virtualHostedStyle: !pathStyle,
    });
    this.secrets = [
      o.credentials.secretAccessKey,
      o.credentials.sessionToken,
      o.credentials.accessKeyId,
    ].filter((s): s is string => s !== undefined && s.length >= 4);
  }

  locate(recorded: string): string {
    const key = keyOfRecorded(this.loc, recorded);
    return key === null ? recorded : urlOf(this.loc, key);
  }

  contentPath(kind: StoredKind, sha256: string): string {
    return urlOf(this.loc, contentKey(this.loc, kind, sha256));
  }

  /** The pointer object's key: `prefix/by-id/ab/cd/<slug>.json`, sharded like the by-id links on disk. */
  pointerKey(artifactId: string): string {
    const name = byIdName(artifactId);
    const h = createHash("sha256").update(artifactId, "utf8").digest("hex");
    return keyOf(this.loc, `${BY_ID_DIR}/${h.slice(0, 2)}/${h.slice(2, 4)}/${name}.json`);
  }

  /**
   * Writes and deletes a small object: bad or missing credentials, a missing bucket, a wrong
   * endpoint show here, before any work is taken. Throws an Error with one line naming the cause.
   */
  async probe(): Promise<void> {
    const key = keyOf(this.loc, `.docstokg-probe-${randomBytes(6).toString("hex")}`);
    try {
      await this.withRetry(`write ${key}`, () => this.client.write(key, "probe", { type: "text/plain" }), 3);
      await this.withRetry(`delete ${key}`, () => this.client.delete(key), 3);
    } catch (e) {
      throw new Error(`out_dir ${this.location}: ${this.probeCause(e)}`);
    }
  }

  private probeCause(e: unknown): string {
    const cause = (e as { cause?: unknown }).cause ?? e;
    const code = (cause as { code?: unknown } | null)?.code;
    const detail = this.scrub(String((cause as Error)?.message ?? cause));
    if (code === "NoSuchBucket") return `the bucket "${this.loc.bucket}" does not exist (${detail})`;
    if (code === "ERR_S3_MISSING_CREDENTIALS")
      return "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY)";
    if (typeof code === "string" && PERMANENT_CODES.has(code))
      return `the store refused the credentials from the environment (${code}: ${detail})`;
    return `the store cannot be reached or refused a test write (${detail})`;
  }

  async publish(o: PublishRequest): Promise<Published> {
    const key = contentKey(this.loc, o.kind, o.sha256);
    // The temp file's bytes are all written (its digest is known); its flush is irrelevant here.
    await o.flushed;
    const existing = await this.headSize(key);
    const duplicate = existing === o.bytes;
    if (!duplicate) {
      const multipart = o.bytes >= this.partSize;
      await this.withRetry(
        `upload ${key}`,
        (signal) => (multipart ? this.uploadParts(key, o, signal) : this.uploadWhole(key, o)),
        undefined,
        this.uploadTimeoutMs(o.bytes),
      );
      // A single PUT answered 200 stored all of its Content-Length (S3 never keeps a partial
      // object, and reads after a write are strongly consistent): its body was the whole file, read
      // and found `o.bytes` long before sending, so no HEAD after it. A multipart object is put
      // together from parts by the store: uploadParts confirms its size by a HEAD.
    }
    const path = urlOf(this.loc, key);
    const byIdPath = await this.linkById(o.artifactId, o.kind, {
      path,
      sha256: o.sha256,
      bytes: o.bytes,
      contentType: o.contentType,
    });
    await unlinkQuiet(o.tempPath);
    await o.onTempRemoved?.();
    return { path, byIdPath, duplicate };
  }

  async linkById(artifactId: string, _kind: StoredKind, stored: StoredRef): Promise<string> {
    const key = this.pointerKey(artifactId);
    const target = keyOfRecorded(this.loc, stored.path) ?? stored.path;
    const pointer: Pointer = {
      artifact_id: artifactId,
      sha256: stored.sha256,
      key: target,
      bytes: stored.bytes,
      content_type: stored.contentType,
    };
    const body = `${JSON.stringify(pointer)}\n`;
    await this.withRetry(`write ${key}`, () => this.client.write(key, body, { type: "application/json" }));
    return urlOf(this.loc, key);
  }

  async readPointer(artifactId: string): Promise<Pointer | undefined> {
    const key = this.pointerKey(artifactId);
    if ((await this.headSize(key)) === undefined) return undefined;
    return (await this.withRetry(`read ${key}`, () => this.client.file(key).json())) as Pointer;
  }

  async find(recorded: string): Promise<{ path: string; size: number } | undefined> {
    const key = keyOfRecorded(this.loc, recorded);
    if (key === null) return undefined;
    const size = await this.headSize(key);
    return size === undefined ? undefined : { path: recorded, size };
  }

  async size(path: string): Promise<number | undefined> {
    const key = keyOfRecorded(this.loc, path);
    return key === null ? undefined : this.headSize(key);
  }

  /** Streams the object through SHA-256 (constant memory). */
  async hash(path: string): Promise<string> {
    const key = keyOfRecorded(this.loc, path);
    if (key === null) throw new Error(`${path}: not in ${this.location}`);
    return this.withRetry(
      `read ${key}`,
      async () => {
        const hasher = new Bun.CryptoHasher("sha256");
        await forEachChunk(this.client.file(key).stream(), (chunk) => hasher.update(chunk));
        return hasher.digest("hex");
      },
      undefined,
      Number.POSITIVE_INFINITY,
    );
  }

  /** The object's size by HEAD, or undefined when there is none. */
  async headSize(key: string): Promise<number | undefined> {
    return this.withRetry(`stat ${key}`, async () => {
      try {
        return (await this.client.file(key).stat()).size;
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (code === "NoSuchKey" || code === "NotFound" || code === "ERR_S3_FILE_NOT_FOUND") return undefined;
        throw e;
      }
    });
  }

  /** Overwrites an object (tests and repairs); retried like everything else. */
  async put(key: string, body: string | Uint8Array): Promise<void> {
    await this.withRetry(`write ${key}`, () => this.client.write(key, body));
  }

  /**
   * One PUT of the whole file, read into memory first (as Bun's client would buffer it anyway for a
   * single PUT; one read costs less than its file stream), its length checked against the digest's.
   */
  private async uploadWhole(key: string, o: PublishRequest): Promise<void> {
    const body = await Bun.file(o.tempPath).bytes();
    if (body.length !== o.bytes)
      throw new Error(`${o.tempPath}: ${body.length} bytes on disk, expected ${o.bytes}`);
    // Our part size, above the body's: with Bun's default (5 MiB) a larger body could go in parts.
    await this.client.write(key, body, { type: o.contentType, partSize: this.partSize });
  }

  private async uploadParts(key: string, o: PublishRequest, signal: AbortSignal): Promise<void> {
    await uploadInParts({
      client: this.client,
      key,
      path: o.tempPath,
      bytes: o.bytes,
      type: o.contentType,
      partSize: this.partSize,
      queueSize: this.queueSize,
      slots: this.slots,
      signal,
    });
    // Also catches a writer that failed between two flushes: its end() then answers without error.
    const stored = await this.headSize(key);
    if (stored !== o.bytes)
      throw new Error(
        `${urlOf(this.loc, key)}: the store holds ${stored ?? "no"} bytes after uploading ${o.bytes}`,
      );
  }

  /** Generous: an upload slower than 256 KiB/s after a minute is taken for a stalled connection. */
  private uploadTimeoutMs(bytes: number): number {
    return this.retry.timeoutMs + Math.ceil(bytes / (256 * 1024)) * 1000;
  }

  private async withRetry<T>(
    what: string,
    op: (signal: AbortSignal) => Promise<T>,
    attempts = this.retry.attempts,
    timeoutMs = this.retry.timeoutMs,
  ): Promise<T> {
    let last: unknown;
    for (let n = 1; n <= attempts; n++) {
      if (n > 1) await Bun.sleep(backoffMs(n - 1, this.retry));
      try {
        return await withTimeout(op, timeoutMs, what);
      } catch (e) {
        last = e;
        if (!isTransientStoreError(e)) break;
      }
    }
    const code = (last as { code?: unknown } | null)?.code;
    const message = this.scrub(String((last as Error)?.message ?? last));
    throw new StoreUnavailableError(
      `${this.location}: ${what} failed${typeof code === "string" ? ` (${code})` : ""}: ${message}`,
      { cause: last },
    );
  }

  /** Credentials never leave in a message, whatever the store echoed back. */
  private scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join(REDACTED);
    return out;
  }
}

/** Runs `op`; after `ms` its signal is aborted and the answer is a Timeout error. */
function withTimeout<T>(op: (signal: AbortSignal) => Promise<T>, ms: number, what: string): Promise<T> {
  const controller = new AbortController();
  if (!Number.isFinite(ms)) return op(controller.signal);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = Object.assign(new Error(`${what}: no answer in ${ms} ms`), { code: "Timeout" });
      controller.abort(e);
      reject(e);
    }, ms);
  });
  const p = op(controller.signal);
  p.catch(() => {}); // a late failure after the timeout is not unhandled
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
