// IP address and CIDR text: IPv4/IPv6 parsed into bytes, `a.b.c.d/n` and `x::/n` into a prefix.
// Shared by the config schema (which refuses a malformed `network.allow_private` entry) and the URL
// gate (which tests addresses against those ranges).

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
