// Serves a status app with `Bun.serve` on a checked listen address (loopback, or any address once a
// token is configured). Returns a handle whose stop() closes the listener.
import type { Hono } from "hono";
import { checkListen, ListenError } from "./listen.ts";

export interface StatusServer {
  /** The address actually bound (port resolved when 0 was asked for). */
  url: URL;
  stop(): Promise<void>;
}

export function startStatusServer(addr: string, app: Hono, opts: { token?: string }): StatusServer {
  const listen = checkListen(addr, opts.token);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ hostname: listen.hostname, port: listen.port, fetch: app.fetch });
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
