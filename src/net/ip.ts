// IP address and CIDR arithmetic for the URL gate: parse IPv4/IPv6 text into bytes, test CIDR
// membership, and name the special-purpose range (IANA registries) an address falls in, looking
// through IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 forms to the IPv4 address inside.

export interface Ip {
  /** 4 bytes (IPv4) or 16 bytes (IPv6). */
  bytes: Uint8Array;
}

export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
  text: string;
}

export function parseIp(text: string): Ip | undefined {
  const s = text
    .trim()
    .replace(/^\[|\]$/g, "")
    .replace(/%.*$/, "");
  return parseV4(s) ?? parseV6(s);
}

function parseV4(s: string): Ip | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    bytes[i] = Number(p);
  }
  return { bytes };
}

function parseV6(s: string): Ip | undefined {
  if (!s.includes(":")) return undefined;
  let head = s;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    const v4 = parseV4(s.slice(lastColon + 1));
    if (!v4) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = v4.bytes;
    tail.push((a << 8) | b, (c << 8) | d);
    head = s.slice(0, lastColon + 1);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const group = (part: string) => (part === "" ? [] : part.split(":"));
  const left = group(halves[0] ?? "");
  const right = halves.length === 2 ? group(halves[1] ?? "") : [];
  const words: number[] = [];
  for (const g of [...left, ...right]) if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
  const given = left.length + right.length + tail.length;
  if (halves.length === 1 && given !== 8) return undefined;
  if (halves.length === 2 && given > 7) return undefined;
  words.push(...left.map((g) => Number.parseInt(g, 16)));
  if (halves.length === 2) for (let i = 0; i < 8 - given; i++) words.push(0);
  words.push(...right.map((g) => Number.parseInt(g, 16)), ...tail);
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  return { bytes };
}

/** Parse `a.b.c.d/n` or `x::/n` (a bare address is a /32 or /128); undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const [addr = "", len, extra] = text.trim().split("/");
  if (extra !== undefined) return undefined;
  const ip = parseIp(addr);
  if (!ip) return undefined;
  const max = ip.bytes.length * 8;
  const prefix = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : Number.NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { bytes: ip.bytes, prefix, text: text.trim() };
}

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
