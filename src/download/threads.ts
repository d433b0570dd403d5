// The threads every download of a process shares: disk flushes (syncer.ts) and body hashing and
// writing (offload.ts). One set per process, made by whoever runs downloads (runner, fetch).
import { HashingThreads } from "./offload.ts";
import { createDiskSyncer, type DiskSyncer } from "./syncer.ts";

export interface DownloadThreads {
  syncer: DiskSyncer;
  hashers: HashingThreads;
  /** Stops both pools; call after the last download has ended. */
  close(): void;
}

export function startDownloadThreads(): DownloadThreads {
  const syncer = createDiskSyncer();
  const hashers = new HashingThreads();
  return {
    syncer,
    hashers,
    close() {
      hashers.close();
      syncer.close();
    },
  };
}
