// The URL gate: which URLs and addresses may be contacted. The lookups here are in-memory tables;
// nothing in this file opens a socket.
import { describe, expect, test } from "bun:test";
import { addressProblem, compileAllowList, createUrlGate, urlShapeProblem } from "../../src/net/gate.ts";
import { inCidr, parseCidr, parseIp, specialRange } from "../../src/net/ip.ts";

describe("specialRange", () => {
  const refused = [
    "0.0.0.0",
    "10.1.2.3",
    "100.64.0.1",
    "100.127.255.255",
    "127.0.0.1",
    "127.255.0.9",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.255",
    "192.0.0.8",
    "192.0.2.1",
    "192.168.1.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "::127.0.0.1",
    "64:ff9b::10.0.0.1",
    "64:ff9b:1::1",
    "2002:0a00:0001::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fe80::1%eth0",
    "fec0::1",
    "ff02::1",
    "2001:db8::1",
    "2001::1",
    "100::1",
  ];
  for (const a of refused)
    test(`${a} is special`, () => expect(specialRange(parseIp(a) as never)).toBeString());

  const pub = [
    "8.8.8.8",
    "1.1.1.1",
    "100.63.255.255",
    "100.128.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "169.253.0.1",
    "2606:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
    "2002:0808:0808::1",
  ];
  for (const a of pub)
    test(`${a} is public`, () => expect(specialRange(parseIp(a) as never)).toBeUndefined());

  test("names the range", () => {
    expect(specialRange(parseIp("169.254.169.254") as never)).toBe("link-local");
    expect(specialRange(parseIp("::ffff:192.168.0.1") as never)).toBe("private (embedded IPv4)");
  });
});

describe("ip parsing", () => {
  test("rejects malformed addresses", () => {
    for (const s of [
      "1.2.3",
      "1.2.3.256",
      "1.2.3.4.5",
      ":::1",
      "1::2::3",
      "12345::",
      "g::1",
      "1:2:3:4:5:6:7:8:9",
      "",
    ]) {
      expect(parseIp(s)).toBeUndefined();
    }
  });
  test("parses the full and compressed forms to the same bytes", () => {
    expect(parseIp("2001:db8:0:0:0:0:0:1")?.bytes).toEqual(parseIp("2001:db8::1")?.bytes as Uint8Array);
    expect(parseIp("::ffff:1.2.3.4")?.bytes).toEqual(parseIp("::ffff:102:304")?.bytes as Uint8Array);
  });
  test("CIDR membership honours partial-byte prefixes", () => {
    const c = parseCidr("100.64.0.0/10");
    expect(c).toBeDefined();
    expect(inCidr(parseIp("100.127.1.1") as never, c as never)).toBe(true);
    expect(inCidr(parseIp("100.128.0.0") as never, c as never)).toBe(false);
    expect(inCidr(parseIp("::1") as never, c as never)).toBe(false);
    expect(parseCidr("10.0.0.0/33")).toBeUndefined();
    expect(parseCidr("10.0.0.0/x")).toBeUndefined();
    expect(parseCidr("fc00::/7")?.prefix).toBe(7);
  });
});

describe("url shape", () => {
  test("only http and https, without credentials", () => {
    expect(urlShapeProblem(new URL("https://a.example/x"))).toBeUndefined();
    expect(urlShapeProblem(new URL("ftp://a.example/x"))).toContain("only http and https");
    expect(urlShapeProblem(new URL("file:///etc/passwd"))).toContain("only http and https");
    expect(urlShapeProblem(new URL("https://user:pw@a.example/"))).toContain("credentials");
    expect(urlShapeProblem(new URL("https://user@a.example/"))).toContain("credentials");
  });
});

describe("allow list", () => {
  test("a malformed CIDR is a configuration error naming the entry", () => {
    expect(() => compileAllowList(["127.0.0.0/8", "localhost"])).toThrow(
      'network.allow_private[1]: "localhost"',
    );
  });
  test("allowed CIDRs open exactly their range", () => {
    const allow = compileAllowList(["127.0.0.0/8"]);
    expect(addressProblem("127.0.0.5", allow)).toBeUndefined();
    expect(addressProblem("10.0.0.1", allow)).toContain("private");
    expect(addressProblem("169.254.169.254", allow)).toContain("link-local");
    expect(addressProblem("::1", allow)).toContain("loopback");
  });
});

describe("createUrlGate", () => {
  const table: Record<string, string[]> = {
    "pub.example": ["93.184.216.34"],
    "mixed.example": ["93.184.216.34", "10.0.0.7"],
    "meta.example": ["169.254.169.254"],
    "v6.example": ["2606:4700::1111"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "loop.example": ["127.0.0.9"],
  };
  const lookup = async (h: string) => {
    const a = table[h];
    if (!a) throw Object.assign(new Error("nope"), { code: "ENOTFOUND" });
    return a;
  };
  const gate = createUrlGate({ allowPrivate: [], lookup });

  test("a public host passes with the address to connect to", async () => {
    const v = await gate.check(new URL("https://pub.example/a.pdf"));
    expect(v).toMatchObject({ ok: true, address: "93.184.216.34" });
  });
  test("any private answer refuses the whole name", async () => {
    expect(await gate.check(new URL("https://mixed.example/"))).toMatchObject({
      ok: false,
      reason: "url_refused",
    });
    expect(await gate.check(new URL("http://meta.example/latest/"))).toMatchObject({
      ok: false,
      reason: "url_refused",
    });
    expect(await gate.check(new URL("http://mapped.example/"))).toMatchObject({
      ok: false,
      reason: "url_refused",
    });
  });
  test("IP literals are judged without DNS", async () => {
    const noDns = createUrlGate({
      allowPrivate: [],
      lookup: () => {
        throw new Error("DNS must not be asked for a literal");
      },
    });
    expect(await noDns.check(new URL("http://169.254.169.254/"))).toMatchObject({
      ok: false,
      reason: "url_refused",
    });
    expect(await noDns.check(new URL("http://[::1]:8080/"))).toMatchObject({
      ok: false,
      reason: "url_refused",
    });
    expect(await noDns.check(new URL("http://[::ffff:a00:1]/"))).toMatchObject({
      ok: false,
      reason: "url_refused",
    });
    expect(await noDns.check(new URL("http://0x7f000001/"))).toMatchObject({
      ok: false,
      reason: "url_refused",
    });
    expect(await noDns.check(new URL("http://8.8.8.8/"))).toMatchObject({ ok: true, address: "8.8.8.8" });
    expect(await noDns.check(new URL("http://[2606:4700::1111]/"))).toMatchObject({
      ok: true,
      address: "2606:4700::1111",
    });
  });
  test("loopback passes only when allowed", async () => {
    expect(await gate.check(new URL("http://loop.example/"))).toMatchObject({
      ok: false,
      reason: "url_refused",
    });
    const tests = createUrlGate({ allowPrivate: ["127.0.0.0/8"], lookup });
    expect(await tests.check(new URL("http://loop.example/"))).toMatchObject({
      ok: true,
      address: "127.0.0.9",
    });
    expect(await tests.check(new URL("http://meta.example/"))).toMatchObject({
      ok: false,
      reason: "url_refused",
    });
  });
  test("an unresolvable name is a connection error, not a refusal", async () => {
    const v = await gate.check(new URL("https://nowhere.example/"));
    expect(v).toMatchObject({ ok: false, reason: "conn_error" });
    if (!v.ok) expect(v.message).toContain("nowhere.example");
  });
  test("bad schemes and credentials are refused before DNS", async () => {
    expect(await gate.check(new URL("ftp://pub.example/"))).toMatchObject({
      ok: false,
      reason: "url_refused",
    });
    expect(await gate.check(new URL("https://a:b@pub.example/"))).toMatchObject({
      ok: false,
      reason: "url_refused",
    });
  });
  test("a name's vetted answer is reused until its TTL, then asked again; failures are not kept", async () => {
    let clock = 0;
    const asked: string[] = [];
    const answers: Record<string, string[]> = { "pub.example": ["93.184.216.34"] };
    const cached = createUrlGate({
      allowPrivate: [],
      now: () => clock,
      cacheTtlMs: 1000,
      lookup: async (h) => {
        asked.push(h);
        const a = answers[h];
        if (!a) throw Object.assign(new Error("nope"), { code: "ENOTFOUND" });
        return a;
      },
    });
    expect(await cached.check(new URL("https://pub.example/a"))).toMatchObject({ ok: true });
    // Within the TTL: answered without DNS and without a promise, still with the vetted address.
    const again = cached.check(new URL("https://pub.example/b"));
    expect(again).toMatchObject({ ok: true, address: "93.184.216.34" });
    expect(asked).toEqual(["pub.example"]);
    // After it, the name is resolved and vetted again: a rebound private answer is refused.
    answers["pub.example"] = ["10.0.0.7"];
    clock = 1001;
    expect(await cached.check(new URL("https://pub.example/c"))).toMatchObject({
      ok: false,
      reason: "url_refused",
    });
    expect(asked).toEqual(["pub.example", "pub.example"]);
    expect(await cached.check(new URL("https://gone.example/"))).toMatchObject({ reason: "conn_error" });
    expect(await cached.check(new URL("https://gone.example/"))).toMatchObject({ reason: "conn_error" });
    expect(asked.filter((h) => h === "gone.example")).toHaveLength(2);
    // A refusal is kept too, and still names the URL that asked.
    const refused = cached.check(new URL("https://pub.example/d"));
    expect(refused).toMatchObject({ ok: false, reason: "url_refused" });
    if (!(refused instanceof Promise) && !refused.ok) expect(refused.message).toContain("/d");
  });
});
