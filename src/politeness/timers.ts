// The clock primitives the gate waits with, injectable so tests run on a fake clock: a sleep that an
// abort signal ends early, and an unref'd background timer that never keeps the process alive.

/** Sleep `ms`, or reject with the signal's reason when it aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Run `fn` after `ms` unless cancelled; must not keep the process alive. */
export type Timer = (fn: () => void, ms: number) => { cancel(): void };

const MAX_TIMER_MS = 2 ** 31 - 1;

export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    // setTimeout treats anything beyond 2^31-1 ms as 1 ms: an unbounded wait must not end at once.
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.min(Math.max(0, ms), MAX_TIMER_MS),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });

export const realTimer: Timer = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref?.();
  return { cancel: () => clearTimeout(t) };
};
