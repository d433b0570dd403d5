// A minimal HttpClient over plain fetch with an idle timeout, used only until the real client
// (src/net/fetch.ts) is available on this branch. No gate, no politeness.
import type { Reason } from "../../src/core/reasons.ts";
import type { HttpClient, HttpResult } from "../../src/net/types.ts";

export function plainClient(o: { idleTimeoutMs?: number; totalTimeoutMs?: number } = {}): HttpClient {
  const idle = o.idleTimeoutMs ?? 30_000;
  return {
    async request(req): Promise<HttpResult> {
      const ctl = new AbortController();
      const total = setTimeout(
        () => ctl.abort(Object.assign(new Error("total timeout"), { reason: "timeout" })),
        o.totalTimeoutMs ?? 600_000,
      );
      const onAbort = () => ctl.abort(req.signal?.reason);
      req.signal?.addEventListener("abort", onAbort, { once: true });
      let res: Response;
      try {
        res = await fetch(req.url, { headers: req.headers, signal: ctl.signal, redirect: "follow" });
      } catch (e) {
        clearTimeout(total);
        const reason: Reason = req.signal?.aborted ? "cancelled" : "conn_error";
        return { ok: false, reason, message: String(e), url: req.url };
      }
      if (!(res.status >= 200 && res.status < 300) && res.status !== 304) {
        clearTimeout(total);
        await res.body?.cancel();
        const reason: Reason =
          res.status === 404 || res.status === 410
            ? "not_found"
            : res.status === 401 || res.status === 403
              ? "forbidden"
              : res.status === 429
                ? "rate_limited"
                : `http_${res.status}`;
        return { ok: false, reason, status: res.status, message: `HTTP ${res.status}`, url: req.url };
      }
      const src = res.body;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const body = src
        ? new ReadableStream<Uint8Array>({
            async pull(c) {
              const reader = src.getReader();
              try {
                const r = await Promise.race([
                  reader.read(),
                  new Promise<never>((_, rej) => {
                    timer = setTimeout(() => {
                      rej(Object.assign(new Error("idle timeout"), { reason: "timeout" }));
                      ctl.abort();
                    }, idle);
                  }),
                ]);
                clearTimeout(timer);
                if (r.done) {
                  clearTimeout(total);
                  c.close();
                } else c.enqueue(r.value);
              } catch (e) {
                clearTimeout(timer);
                clearTimeout(total);
                c.error(ctl.signal.reason?.reason ? ctl.signal.reason : e);
              } finally {
                reader.releaseLock();
              }
            },
            cancel() {
              clearTimeout(total);
              ctl.abort();
            },
          })
        : null;
      return {
        ok: true,
        response: {
          status: res.status,
          headers: res.headers,
          url: res.url,
          redirects: [req.url],
          body,
          rateWaitMs: 0,
          release() {},
        },
      };
    },
  };
}
