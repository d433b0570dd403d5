// The body guard: the caller's view of a response body, which keeps the client's promises while it
// is read — constant memory, the idle timeout between chunks, the size cap, a short body reported as
// `truncated` — and releases the request's slots however the body ends.
import { describeFailure, HttpFailure, outcomeReason } from "./outcome.ts";

export interface GuardOptions {
  ac: AbortController;
  idleMs: number;
  maxBytes: number;
  expected?: number;
  url: URL;
  /** Clears the timers and releases the politeness slots; idempotent. */
  end(): void;
}

/**
 * The caller's view of a body: pulls one chunk per read (constant memory), aborts when the server
 * stays silent longer than `idleMs` or the body exceeds `maxBytes`, reports a body shorter than its
 * Content-Length as `truncated`, and releases the slots however it ends (done, error or cancel).
 */
export function guardBody(source: ReadableStream<Uint8Array>, o: GuardOptions): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let received = 0;
  const failWith = (c: ReadableStreamDefaultController<Uint8Array>, e: HttpFailure) => {
    o.ac.abort(e);
    reader.cancel(e).catch(() => {});
    o.end();
    c.error(e);
  };
  // One idle timer per body, not one per chunk: it is armed when a read starts waiting and, when it
  // fires, either aborts (the read has waited idleMs) or re-arms for the rest of that wait.
  let waitingSince: number | null = null;
  let idle: ReturnType<typeof setTimeout> | null = null;
  const onIdle = () => {
    idle = null;
    if (waitingSince === null) return;
    const waited = performance.now() - waitingSince;
    if (waited >= o.idleMs)
      o.ac.abort(new HttpFailure("timeout", `no data for ${o.idleMs} ms: ${o.url.href}`));
    else idle = unrefTimer(setTimeout(onIdle, o.idleMs - waited));
  };
  const stopIdle = () => {
    waitingSince = null;
    if (idle !== null) clearTimeout(idle);
    idle = null;
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        waitingSince = performance.now();
        idle ??= unrefTimer(setTimeout(onIdle, o.idleMs));
        let chunk: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          stopIdle();
          const cause = o.ac.signal.aborted ? o.ac.signal.reason : error;
          let reason = outcomeReason({ error: cause });
          // A connection lost before the declared length is a short body, whatever the socket said.
          if (reason === "conn_error" && o.expected !== undefined && received < o.expected)
            reason = "truncated";
          const message =
            reason === "truncated"
              ? `body of ${o.url.href} ended after ${received} of ${o.expected} bytes`
              : describeFailure(cause, o.ac.signal, o.url);
          o.end();
          c.error(
            cause instanceof HttpFailure && cause.reason === reason
              ? cause
              : new HttpFailure(reason, message),
          );
          return;
        }
        // The timer stays armed between chunks (cheap); it only acts while a read waits.
        waitingSince = null;
        if (chunk.done) {
          stopIdle();
          o.end();
          if (o.expected !== undefined && received < o.expected) {
            c.error(
              new HttpFailure(
                "truncated",
                `body of ${o.url.href} ended after ${received} of ${o.expected} bytes`,
              ),
            );
          } else {
            c.close();
          }
          return;
        }
        received += chunk.value.length;
        if (received > o.maxBytes) {
          stopIdle();
          failWith(c, new HttpFailure("too_large", `body of ${o.url.href} exceeds ${o.maxBytes} bytes`));
          return;
        }
        c.enqueue(chunk.value);
      },
      cancel(reason) {
        stopIdle();
        o.ac.abort(reason ?? new HttpFailure("cancelled", "body cancelled"));
        reader.cancel(reason).catch(() => {});
        o.end();
      },
    },
    { highWaterMark: 0 },
  );
}

/** A timer that does not keep the process alive by itself (a pending read does). */
function unrefTimer(t: ReturnType<typeof setTimeout>): ReturnType<typeof setTimeout> {
  (t as { unref?: () => void }).unref?.();
  return t;
}
