// The URL gate (SPEC 6 step 1): only http/https, no credentials, and a host whose every resolved
// address is public (or inside `network.allow_private`). It answers the address to connect to, so
// the client connects to the vetted address itself and a DNS answer that changes between check and
// connect (rebinding) cannot smuggle a request into private space.
import { lookup as dnsLookup } from "node:dns/promises";
import { type Cidr, inCidr, parseCidr, parseIp, specialRange } from "./ip.ts";

/** Resolve a hostname to its addresses (IPv4 and IPv6 text). */
export type Lookup = (hostname: string) => Promise<string[]>;

export const systemLookup: Lookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export type GateVerdict =
  | { ok: true; url: URL; address: string }
  | { ok: false; reason: "url_refused" | "conn_error"; message: string };

export interface UrlGate {
  check(url: URL): Promise<GateVerdict>;
}

/** Compile `network.allow_private`; a malformed entry is a configuration error naming it. */
export function compileAllowList(cidrs: readonly string[]): Cidr[] {
  return cidrs.map((text, i) => {
    const c = parseCidr(text);
    if (!c) {
      throw new Error(
        `network.allow_private[${i}]: ${JSON.stringify(text)} is not a CIDR (expected e.g. "127.0.0.0/8" or "fc00::/7")`,
      );
    }
    return c;
  });
}

/** The shape rules that need no DNS: scheme, credentials, port. Undefined when acceptable. */
export function urlShapeProblem(url: URL): string | undefined {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `${url.protocol.replace(/:$/, "")} URLs are not fetched (only http and https)`;
  }
  if (url.username !== "" || url.password !== "") return "URLs with credentials are not fetched";
  if (url.port === "0") return "port 0 is not a valid destination";
  if (url.hostname === "") return "the URL has no host";
  return undefined;
}

/** Why `address` may not be contacted, or undefined when it may. */
export function addressProblem(address: string, allow: readonly Cidr[]): string | undefined {
  const ip = parseIp(address);
  if (!ip) return `${JSON.stringify(address)} is not an IP address`;
  const range = specialRange(ip);
  if (range === undefined) return undefined;
  if (allow.some((c) => inCidr(ip, c))) return undefined;
  return `${address} is a ${range} address (allow it with network.allow_private)`;
}

export function createUrlGate(opts: { allowPrivate: readonly string[]; lookup?: Lookup }): UrlGate {
  const allow = compileAllowList(opts.allowPrivate);
  const lookup = opts.lookup ?? systemLookup;
  return {
    async check(url) {
      const shape = urlShapeProblem(url);
      if (shape) return { ok: false, reason: "url_refused", message: `${url.href}: ${shape}` };
      const literal = parseIp(url.hostname);
      let addresses: string[];
      if (literal) {
        addresses = [url.hostname.replace(/^\[|\]$/g, "")];
      } else {
        try {
          addresses = await lookup(url.hostname);
        } catch (e) {
          const code = (e as { code?: string }).code ?? (e as Error).message;
          return { ok: false, reason: "conn_error", message: `${url.hostname} did not resolve (${code})` };
        }
        if (addresses.length === 0) {
          return { ok: false, reason: "conn_error", message: `${url.hostname} resolved to no address` };
        }
      }
      // Every answer must pass: a name that maps to one public and one private address is refused.
      for (const address of addresses) {
        const problem = addressProblem(address, allow);
        if (problem) return { ok: false, reason: "url_refused", message: `${url.href}: ${problem}` };
      }
      return { ok: true, url, address: addresses[0] as string };
    },
  };
}
