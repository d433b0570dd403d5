// Pause and resume reach every runner of a fleet at once: a runner LISTENs on the settings channel
// that `setPaused` notifies at commit. Notifications sent while a runner's connection was down are
// lost, so after every reconnect (health.ts "up") the flag is read again and listening renewed.
import type { SQL } from "bun";
import { connectionHealth } from "./health.ts";
import { isPaused, SETTINGS_CHANNEL } from "./jobs/steer.ts";

interface Listening {
  unlisten(): Promise<void>;
}

/** Calls `onChange` with the flag now, on every change notified, and after every reconnect. */
export async function watchPause(
  sql: SQL,
  onChange: (paused: boolean) => void,
  onError: (e: unknown) => void = () => {},
): Promise<() => Promise<void>> {
  let listening: Listening | undefined;
  let closed = false;
  const listen = async () => {
    const old = listening;
    listening = undefined;
    await old?.unlisten().catch(() => {});
    if (closed) return;
    listening = (await (
      sql as unknown as { listen(ch: string, cb: (payload: string) => void): Promise<Listening> }
    ).listen(SETTINGS_CHANNEL, (payload) => {
      const m = /^paused=([01])$/.exec(payload);
      if (m) onChange(m[1] === "1");
    })) as Listening;
    onChange(await isPaused(sql));
  };
  await listen();
  const unwatch = connectionHealth(sql).listen({
    down: () => {},
    up: () => {
      listen().catch(onError);
    },
  });
  return async () => {
    closed = true;
    unwatch();
    await listening?.unlisten().catch(() => {});
  };
}
