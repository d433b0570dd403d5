// DNS-rebinding defence for a status endpoint bound to loopback: a web page whose own name the
// attacker re-points at 127.0.0.1 reaches the endpoint with `Host: <attacker's name>`, so on a
// loopback bind only loopback names and addresses (any port) may be asked for; others get 421.
import { isLoopbackHost } from "./listen.ts";

/** The host part of a Host header value (`name[:port]`, `[v6][:port]`), lowercased; null if malformed. */
export function hostHeaderName(value: string): string | null {
  const v = value.trim().toLowerCase();
  const m = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(v) ?? /^([^:[\]\s]+)(?::\d{1,5})?$/.exec(v);
  return m ? (m[1] as string) : null;
}

/** True when a request naming this Host may be answered by a loopback-bound endpoint. */
export function isLoopbackHostHeader(value: string): boolean {
  const name = hostHeaderName(value);
  if (name === null) return false;
  // "localhost." is the same name written fully qualified.
  return isLoopbackHost(name.endsWith(".") ? name.slice(0, -1) : name);
}

/**
 * The refusal for a request whose Host is not a loopback name, or undefined to let it through.
 * A request without Host cannot come from a browser (which is what rebinding needs): it passes.
 */
export function refuseForeignHost(req: Request): Response | undefined {
  const host = req.headers.get("host");
  if (host === null || isLoopbackHostHeader(host)) return undefined;
  return Response.json(
    {
      error: "misdirected",
      message: `Host ${JSON.stringify(host.slice(0, 200))} is not served here: this endpoint listens on loopback and answers only localhost, 127.x.x.x or [::1]`,
    },
    { status: 421, headers: { "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" } },
  );
}
