// Free space on the library's filesystem. A download that meets ENOSPC (or a quota) throws it (its
// temp file removed); the plan's download trier (resolve/attempt.ts) turns it into a `disk_full`
// result, and the runner's job step records that try, releases the job without counting an attempt,
// and asks this gate before every lease, so no attempt is burnt while the disk is full. Leasing
// resumes by itself once a check finds `orchestrator.min_free_bytes` free again.
import { statfsSync } from "node:fs";

/** Whether an error from a filesystem call means "no space left" (or over quota). */
export function isDiskFullError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/** Bytes an unprivileged process may still write on the filesystem holding `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

export interface SpaceVerdict {
  /** Leasing may go on. */
  ok: boolean;
  /** Free bytes at the last check; null when the check itself failed. */
  freeBytes: number | null;
}

/**
 * The decision, pure: fine while free space stays at or above the floor. After an ENOSPC the floor
 * is raised to what was free just after it (the failed download's temp file already removed) plus
 * the floor: space must really come back, or every check would reopen leasing only for the next
 * download to fail the same way. A failed measurement says nothing new.
 */
export function spaceVerdict(
  free: number | null,
  minFreeBytes: number,
  freeAtFull: number | null | undefined,
): boolean {
  const sawFull = freeAtFull !== undefined;
  if (free === null) return !sawFull;
  return free >= minFreeBytes + (sawFull ? (freeAtFull ?? 0) : 0);
}

export interface DiskSpaceGateOptions {
  /** The library directory (config out_dir). */
  dir: string;
  minFreeBytes: number;
  /** How often free space is measured (statfs), ms. */
  checkEveryMs: number;
  now: () => number;
  /** Measure free bytes (default: statfs of `dir`). */
  measure?: (dir: string) => number;
  /** Told when leasing stops for lack of space and when it resumes. */
  onChange?: (v: SpaceVerdict & { reason: "low" | "full" | "recovered" }) => void;
}

export class DiskSpaceGate {
  /** Free bytes measured right after the last ENOSPC (null: not measurable); undefined: none since. */
  private freeAtFull: number | null | undefined;
  private low = false;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private free: number | null = null;

  constructor(private readonly o: DiskSpaceGateOptions) {}

  /** A download met ENOSPC: stop leasing now, until a later check finds space. */
  reportFull(): void {
    this.freeAtFull = this.measure();
    this.free = this.freeAtFull;
    this.checkedAt = this.o.now();
    if (!this.low) {
      this.low = true;
      this.o.onChange?.({ ok: false, freeBytes: this.free, reason: "full" });
    }
  }

  /** Whether the runner may lease (measures at most every checkEveryMs). */
  ready(): boolean {
    const now = this.o.now();
    if (now - this.checkedAt < this.o.checkEveryMs) return !this.low;
    this.checkedAt = now;
    this.free = this.measure();
    const ok = spaceVerdict(this.free, this.o.minFreeBytes, this.freeAtFull);
    if (ok && this.low) {
      this.low = false;
      this.freeAtFull = undefined;
      this.o.onChange?.({ ok: true, freeBytes: this.free, reason: "recovered" });
    } else if (!ok && !this.low) {
      this.low = true;
      this.o.onChange?.({ ok: false, freeBytes: this.free, reason: "low" });
    }
    return ok;
  }

  private measure(): number | null {
    try {
      return (this.o.measure ?? freeBytes)(this.o.dir);
    } catch {
      return null; // e.g. the library directory does not exist yet: nothing to say
    }
  }

  /** When leasing is paused, how long until the next measurement, ms. */
  get retryInMs(): number {
    return Math.max(0, this.checkedAt + this.o.checkEveryMs - this.o.now());
  }
}
