// The URL gate (SPEC 6 step 1): only http/https, no credentials, and a host whose every resolved
// address is public (or inside `network.allow_private`). It answers the address to connect to, so
// the client connects to the vetted address itself and a DNS answer that changes between check and
// connect (rebinding) cannot smuggle a request into private space. A name's vetted answer is reused
// for 30 s, so the per-request path needs no DNS question and no promise.
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
  /**
   * The verdict on `url`: synchronous when no DNS question is needed (a refused shape, an IP
   * literal, a name whose answer is still cached), else a promise.
   */
  check(url: URL): GateVerdict | Promise<GateVerdict>;
}

export interface UrlGateOptions {
  allowPrivate: readonly string[];
  lookup?: Lookup;
  now?: () => number;
  /** How long a name's vetted answer is reused (the connection still goes to the vetted address). */
  cacheTtlMs?: number;
}

/** A vetted host: the address to connect to, or why none may be contacted. */
type HostVerdict = { address: string; problem?: undefined } | { address?: undefined; problem: string };

const CACHE_TTL_MS = 30_000;
const CACHE_MAX = 2048;

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

export function createUrlGate(opts: UrlGateOptions): UrlGate {
  const allow = compileAllowList(opts.allowPrivate);
  const lookup = opts.lookup ?? systemLookup;
  const now = opts.now ?? Date.now;
  const ttlMs = opts.cacheTtlMs ?? CACHE_TTL_MS;
  // hostname → verdict and until when it holds (an IP literal's holds forever); bounded, oldest out.
  const cache = new Map<string, { verdict: HostVerdict; until: number }>();
  const remember = (hostname: string, verdict: HostVerdict, until: number) => {
    cache.delete(hostname);
    cache.set(hostname, { verdict, until });
    if (cache.size > CACHE_MAX) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    return verdict;
  };
  // Every answer must pass: a name that maps to one public and one private address is refused.
  const vet = (addresses: readonly string[]): HostVerdict => {
    for (const address of addresses) {
      const problem = addressProblem(address, allow);
      if (problem) return { problem };
    }
    return { address: addresses[0] as string };
  };
  const answer = (url: URL, v: HostVerdict): GateVerdict =>
    v.problem === undefined
      ? { ok: true, url, address: v.address }
      : { ok: false, reason: "url_refused", message: `${url.href}: ${v.problem}` };

  async function resolve(url: URL): Promise<GateVerdict> {
    let addresses: string[];
    try {
      addresses = await lookup(url.hostname);
    } catch (e) {
      const code = (e as { code?: string }).code ?? (e as Error).message;
      return { ok: false, reason: "conn_error", message: `${url.hostname} did not resolve (${code})` };
    }
    if (addresses.length === 0) {
      return { ok: false, reason: "conn_error", message: `${url.hostname} resolved to no address` };
    }
    return answer(url, remember(url.hostname, vet(addresses), now() + ttlMs));
  }

  return {
    check(url) {
      const shape = urlShapeProblem(url);
      if (shape) return { ok: false, reason: "url_refused", message: `${url.href}: ${shape}` };
      const hit = cache.get(url.hostname);
      if (hit && hit.until > now()) return answer(url, hit.verdict);
      if (parseIp(url.hostname)) {
        const verdict = vet([url.hostname.replace(/^\[|\]$/g, "")]);
        return answer(url, remember(url.hostname, verdict, Number.POSITIVE_INFINITY));
      }
      if (hit) cache.delete(url.hostname);
      return resolve(url);
    },
  };
}
