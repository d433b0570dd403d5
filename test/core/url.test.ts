// Canonical URLs and host keys: the dedupe and politeness keys must not split one resource in two
// or merge two into one.
import { describe, expect, test } from "bun:test";
import { canonicalUrl, hostKey, normalizePercentEncoding, originOf, parseUrl } from "../../src/core/url.ts";

describe("canonicalUrl", () => {
  const cases: [string, string | undefined, string][] = [
    ["HTTP://Example.COM/a", undefined, "http://example.com/a"],
    ["https://example.com:443/a", undefined, "https://example.com/a"],
    ["http://example.com:80/a", undefined, "http://example.com/a"],
    ["http://example.com:443/a", undefined, "http://example.com:443/a"],
    ["https://example.com:8443/a", undefined, "https://example.com:8443/a"],
    ["http://example.com", undefined, "http://example.com/"],
    ["http://example.com/a/./b/../c", undefined, "http://example.com/a/c"],
    ["http://example.com/a/%2e%2E/b", undefined, "http://example.com/b"],
    ["http://example.com/a#section-2", undefined, "http://example.com/a"],
    ["http://example.com/a?b=1&a=2#x", undefined, "http://example.com/a?b=1&a=2"],
    ["http://example.com/a?q=%7e%2f", undefined, "http://example.com/a?q=%7e%2f"],
    ["http://example.com/%7euser/%2f/%41", undefined, "http://example.com/~user/%2F/A"],
    ["http://example.com/a b", undefined, "http://example.com/a%20b"],
    ["http://bücher.example/straße", undefined, "http://xn--bcher-kva.example/stra%C3%9Fe"],
    ["http://EXAMPLE.com./x", undefined, "http://example.com/x"],
    ["http://[2001:DB8:0:0::1]:8080/x", undefined, "http://[2001:db8::1]:8080/x"],
    ["http://[::ffff:127.0.0.1]/", undefined, "http://[::ffff:7f00:1]/"],
    ["  https://example.com/x  ", undefined, "https://example.com/x"],
    ["../pdf/a.pdf", "https://pub.example/articles/1/view", "https://pub.example/articles/pdf/a.pdf"],
    ["/a.pdf?x=1", "https://pub.example:8443/b/c", "https://pub.example:8443/a.pdf?x=1"],
    ["//cdn.example/f.pdf", "https://pub.example/", "https://cdn.example/f.pdf"],
    ["?page=2", "https://pub.example/list?page=1", "https://pub.example/list?page=2"],
    ["#top", "https://pub.example/a#b", "https://pub.example/a"],
    ["http://0x7f.1/", undefined, "http://127.0.0.1/"],
  ];
  for (const [input, base, want] of cases) {
    test(`${input}${base ? ` @ ${base}` : ""} → ${want}`, () => {
      expect(canonicalUrl(input, base)).toBe(want);
    });
  }

  test("a canonical URL is a fixed point", () => {
    for (const [input, base] of cases) {
      const once = canonicalUrl(input, base) as string;
      expect(canonicalUrl(once)).toBe(once);
    }
  });

  test("garbage is an error that names the input", () => {
    const p = parseUrl("not a url");
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.message).toContain('"not a url"');
    expect(canonicalUrl("http://[::1/")).toBeNull();
    expect(canonicalUrl("http://exa mple.com/")).toBeNull();
    const rel = parseUrl("x", "also not a url");
    expect(rel.ok).toBe(false);
    if (!rel.ok) expect(rel.message).toContain("relative to");
  });
});

describe("hostKey", () => {
  const cases: [string, string][] = [
    ["https://Example.com/x", "example.com"],
    ["https://example.com:443/x", "example.com"],
    ["http://example.com:443/x", "example.com:443"],
    ["http://127.0.0.2:8080/", "127.0.0.2:8080"],
    ["https://[::1]:8443/", "[::1]:8443"],
    ["https://[::1]/", "[::1]"],
    ["https://bücher.example/", "xn--bcher-kva.example"],
    ["https://arxiv.org./pdf/1", "arxiv.org"],
  ];
  for (const [input, want] of cases) test(`${input} → ${want}`, () => expect(hostKey(input)).toBe(want));

  test("origin is scheme plus host key", () => {
    expect(originOf(new URL("https://a.example:443/x?y"))).toBe("https://a.example");
    expect(originOf(new URL("http://a.example:81/x"))).toBe("http://a.example:81");
  });
});

test("percent-encoding normalization decodes only unreserved characters", () => {
  expect(normalizePercentEncoding("/%41%2d%5F%7E%20%2f%3a")).toBe("/A-_~%20%2F%3A");
});
