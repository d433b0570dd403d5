// The status endpoint's listen address: parsing `HOST:PORT` / `[v6]:PORT`, and the rule that only a
// loopback address may be bound without a token (anything else would expose the queue controls'
// existence and the job list to the network unauthenticated).

export interface ListenAddress {
  hostname: string;
  port: number;
}

export class ListenError extends Error {
  override name = "ListenError";
}

export function parseListen(addr: string): ListenAddress {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(addr) ?? /^([^:[\]\s]+):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new ListenError(
      `listen address "${addr}": expected HOST:PORT such as 127.0.0.1:8787 or [::1]:8787`,
    );
  }
  return { hostname: m[1] as string, port };
}

/** True for 127.0.0.0/8, ::1 (and its v4-mapped form) and `localhost`. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const v4 = h.startsWith("::ffff:") ? h.slice(7) : h;
  const parts = v4.split(".");
  return (
    parts.length === 4 && parts[0] === "127" && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)
  );
}

/** Refuses a non-loopback bind unless a status token is configured. */
export function checkListen(addr: string, token: string | undefined): ListenAddress {
  const listen = parseListen(addr);
  if (!isLoopbackHost(listen.hostname) && !token) {
    throw new ListenError(
      `refusing to serve the status endpoint on non-loopback address ${addr} without a token: set status.token (env DOCSTOKG_STATUS__TOKEN) or listen on 127.0.0.1`,
    );
  }
  return listen;
}

/** Whether the read routes need a token at this address: every bind that is not loopback. */
export function readNeedsToken(addr: string): boolean {
  return !isLoopbackHost(parseListen(addr).hostname);
}
