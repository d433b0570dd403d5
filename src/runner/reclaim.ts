// Fast recovery after a crash: at start a runner takes back, at once, the leases and host slots of
// the runners of its own machine and boot whose process is gone (systemd's Restart= after kill -9),
// then registers itself. Runners of other machines, or of an unknown boot, still expire by TTL.
import type { RunnerRegistry } from "../store/runners.ts";
import { type ProcessIdentity, processGone } from "./identity.ts";

export interface RunnerRegistration {
  registry: RunnerRegistry;
  id: string;
  host: string;
  version: string;
  identity: ProcessIdentity;
  now: number;
  /** Liveness check (tests inject one); default: kill(pid, 0) and the process start time. */
  gone?: (pid: number, procStart: string | null) => boolean;
}

export interface Reclaimed {
  runners: { id: string; pid: number }[];
  jobs: number;
}

export async function reclaimAndRegister(r: RunnerRegistration): Promise<Reclaimed> {
  const out: Reclaimed = { runners: [], jobs: 0 };
  const gone = r.gone ?? processGone;
  if (r.identity.bootId !== null) {
    for (const dead of await r.registry.ofBoot(r.host, r.identity.bootId, r.id)) {
      if (dead.pid === r.identity.pid && dead.proc_start === r.identity.procStart) continue;
      if (!gone(dead.pid, dead.proc_start)) continue;
      out.jobs += await r.registry.reclaim(dead.id, r.now);
      out.runners.push({ id: dead.id, pid: dead.pid });
    }
  }
  await r.registry.register({
    id: r.id,
    host: r.host,
    boot_id: r.identity.bootId,
    pid: r.identity.pid,
    proc_start: r.identity.procStart,
    version: r.version,
    started_at: r.now,
    heartbeat_at: r.now,
    in_flight: 0,
  });
  return out;
}
