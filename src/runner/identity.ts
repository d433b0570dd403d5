// Who this runner process is, as another runner of the same machine can check later: the machine's
// boot (the kernel's boot id, or a marker in systemd's RuntimeDirectory= where ProcSubset=pid hides
// /proc/sys), the pid and the process start time (so a reused pid is not taken for the old process).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const KERNEL_BOOT_ID = "/proc/sys/kernel/random/boot_id";
const MARKER = "boot-id";

export interface ProcessIdentity {
  bootId: string | null;
  pid: number;
  procStart: string | null;
}

/**
 * The boot id: the kernel's when readable; else a random id kept in the first directory of
 * `$RUNTIME_DIRECTORY` (a tmpfs emptied at boot, so the marker lives exactly one boot); else null,
 * and then no runner's death can be proven early (its leases expire by TTL).
 */
export function readBootId(
  env: Record<string, string | undefined>,
  kernelPath = KERNEL_BOOT_ID,
): string | null {
  try {
    const id = readFileSync(kernelPath, "utf8").trim();
    if (id) return id;
  } catch {
    // hidden (ProcSubset=pid) or not Linux: fall back to the marker
  }
  const dir = env.RUNTIME_DIRECTORY?.split(":")[0];
  if (!dir) return null;
  const marker = join(dir, MARKER);
  try {
    writeFileSync(marker, `${crypto.randomUUID()}\n`, { flag: "wx", mode: 0o644 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") return null;
  }
  try {
    return `runtime:${readFileSync(marker, "utf8").trim()}`;
  } catch {
    return null;
  }
}

/** The start time of a process in clock ticks after boot (field 22 of /proc/<pid>/stat), or null. */
export function readProcStart(pid: number | "self"): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

export function selfIdentity(env: Record<string, string | undefined>): ProcessIdentity {
  return { bootId: readBootId(env), pid: process.pid, procStart: readProcStart("self") };
}

/**
 * Whether a process of this machine's current boot is gone: `kill(pid, 0)` fails with ESRCH, or the
 * pid now belongs to a process that started at another time. A process of another user (EPERM) is
 * alive.
 */
export function processGone(pid: number, procStart: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
  if (procStart === null) return false;
  const now = readProcStart(pid);
  return now !== null && now !== procStart;
}
