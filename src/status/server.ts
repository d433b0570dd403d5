// Serves a status app with `Bun.serve` on a checked listen address (loopback, or any address once a
// token is configured); on a loopback bind, requests naming a foreign Host are refused (host-guard.ts).
// Returns a handle whose stop() closes the listener.
import type { Hono } from "hono";
import { refuseForeignHost } from "./host-guard.ts";
import { checkListen, isLoopbackHost, ListenError } from "./listen.ts";

export interface StatusServer {
  /** The address actually bound (port resolved when 0 was asked for). */
  url: URL;
  stop(): Promise<void>;
}

export function startStatusServer(addr: string, app: Hono, opts: { token?: string }): StatusServer {
  const listen = checkListen(addr, opts.token);
  const fetch: (req: Request) => Response | Promise<Response> = isLoopbackHost(listen.hostname)
    ? (req) => refuseForeignHost(req) ?? app.fetch(req)
    : (req) => app.fetch(req);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ hostname: listen.hostname, port: listen.port, fetch });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === "EADDRINUSE" ? "the address is already in use" : (err as Error).message;
    throw new ListenError(`cannot listen on ${addr}: ${why}`);
  }
  return {
    url: new URL(server.url.href),
    stop: () => server.stop(true),
  };
}
