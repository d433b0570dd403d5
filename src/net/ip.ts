// IP address and CIDR arithmetic for the URL gate: parse IPv4/IPv6 text into bytes, test CIDR
// membership, and name the special-purpose range (IANA registries) an address falls in, looking
// through IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 forms to the IPv4 address inside.

import { type Cidr, type Ip, parseCidr, parseIp } from "../core/ip.ts";

export { type Cidr, type Ip, parseCidr, parseIp };

export function inCidr(ip: Ip, cidr: Cidr): boolean {
  if (ip.bytes.length !== cidr.bytes.length) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((ip.bytes[i] as number) & mask) !== ((cidr.bytes[i] as number) & mask)) return false;
  }
  return true;
}

const table = (rows: [string, string][]) =>
  rows.map(([cidr, name]) => ({ cidr: parseCidr(cidr) as Cidr, name }));

// IANA IPv4/IPv6 special-purpose address registries: none of these is a public web server.
const V4_SPECIAL = table([
  ["0.0.0.0/8", "unspecified"],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "shared (CGNAT)"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"],
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "reserved (IETF)"],
  ["192.0.2.0/24", "documentation"],
  ["192.88.99.0/24", "reserved (6to4 relay)"],
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "benchmarking"],
  ["198.51.100.0/24", "documentation"],
  ["203.0.113.0/24", "documentation"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"],
]);

const V6_SPECIAL = table([
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["64:ff9b:1::/48", "private (local NAT64)"],
  ["100::/64", "discard"],
  ["2001::/23", "reserved (IETF)"],
  ["2001:db8::/32", "documentation"],
  ["3fff::/20", "documentation"],
  ["5f00::/16", "reserved (SRv6)"],
  ["fc00::/7", "unique local"],
  ["fe80::/10", "link-local"],
  ["fec0::/10", "site-local"],
  ["ff00::/8", "multicast"],
]);

// IPv6 forms that carry an IPv4 address: judge the IPv4 address inside.
const V4_CARRIERS: { cidr: Cidr; offset: number }[] = [
  { cidr: parseCidr("::ffff:0:0/96") as Cidr, offset: 12 }, // IPv4-mapped
  { cidr: parseCidr("::/96") as Cidr, offset: 12 }, // IPv4-compatible (deprecated)
  { cidr: parseCidr("64:ff9b::/96") as Cidr, offset: 12 }, // NAT64
  { cidr: parseCidr("2002::/16") as Cidr, offset: 2 }, // 6to4
];

/** The special-purpose range `ip` is in ("loopback", "private", …), or undefined for a public address. */
export function specialRange(ip: Ip): string | undefined {
  if (ip.bytes.length === 4) return V4_SPECIAL.find((r) => inCidr(ip, r.cidr))?.name;
  for (const r of V6_SPECIAL) if (inCidr(ip, r.cidr)) return r.name;
  for (const c of V4_CARRIERS) {
    if (!inCidr(ip, c.cidr)) continue;
    const inner = specialRange({ bytes: ip.bytes.slice(c.offset, c.offset + 4) });
    return inner === undefined ? undefined : `${inner} (embedded IPv4)`;
  }
  return undefined;
}

/** The address as URL host text (`1.2.3.4` or `[2001:db8::1]`). */
export function urlHostOf(address: string): string {
  return address.includes(":") ? `[${address.replace(/^\[|\]$/g, "")}]` : address;
}
