// The rejects file of an import: lines go to a new temp file beside the destination, renamed over it
// at the end, so it holds exactly this import's invalid lines. rename(2) replaces a directory entry and
// never writes through a symbolic link, and a link found at the destination is refused up front.
import {
  closeSync,
  constants,
  lstatSync,
  openSync,
  renameSync,
  type Stats,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

/** The destination cannot be a rejects file (a symbolic link, a directory, a device): exit 2. */
export class RejectsPathError extends Error {
  override name = "RejectsPathError";
}

const FLUSH_BYTES = 64 * 1024;

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/**
 * Refuse a destination that is not a regular file or a new name. A symbolic link is refused rather
 * than replaced: someone planted it or relies on it, and either way the operator should decide.
 */
export function checkRejectsPath(path: string): void {
  const stat = lstatOrNull(path);
  if (stat === null || stat.isFile()) return;
  const what = stat.isSymbolicLink()
    ? "a symbolic link"
    : stat.isDirectory()
      ? "a directory"
      : "not a regular file";
  throw new RejectsPathError(
    `rejects file ${path}: is ${what}; expected a regular file or a new path (remove it or choose another with --rejects)`,
  );
}

export class RejectsFile {
  private fd: number | null = null;
  private tempPath: string | null = null;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private readonly encoder = new TextEncoder();

  constructor(readonly path: string) {
    checkRejectsPath(path);
  }

  get used(): boolean {
    return this.fd !== null;
  }

  write(bytes: Uint8Array | string, newline = true): void {
    if (this.fd === null) this.open();
    this.push(typeof bytes === "string" ? this.encoder.encode(bytes) : bytes);
    if (newline) this.push(NEWLINE);
  }

  /**
   * Put this import's rejects in place: rename the temp file over the destination, or, when no line
   * was rejected, remove a previous import's file so none describes lines this input no longer has.
   */
  commit(): void {
    if (this.fd === null) {
      if (lstatOrNull(this.path)?.isFile()) unlinkSync(this.path);
      return;
    }
    this.flush();
    closeSync(this.fd);
    this.fd = null;
    renameSync(this.tempPath as string, this.path);
    this.tempPath = null;
  }

  /** Drop the temp file after a failure; the destination is left as it was. */
  discard(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    if (this.tempPath !== null) unlinkSync(this.tempPath);
    this.tempPath = null;
  }

  private open(): void {
    const suffix = `${process.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    const temp = join(dirname(this.path), `.${basename(this.path)}.${suffix}`);
    // O_EXCL: a name that exists already (a link included) is an error, never opened.
    this.fd = openSync(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o644,
    );
    this.tempPath = temp;
  }

  private push(bytes: Uint8Array): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.byteLength;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.fd === null || this.pendingBytes === 0) return;
    const whole = Buffer.concat(this.pending, this.pendingBytes);
    let done = 0;
    while (done < whole.byteLength) done += writeSync(this.fd, whole, done);
    this.pending = [];
    this.pendingBytes = 0;
  }
}

const NEWLINE = new Uint8Array([10]);
