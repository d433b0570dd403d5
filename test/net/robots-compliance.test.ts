// robots.txt read as Google's open-source parser (google/robotstxt) reads it: the behaviours of its
// test suite, case by case, with our one deliberate difference (/robots.txt is always allowed) and
// URLs given as this crawler requests them (canonical: non-ASCII percent-encoded).
import { describe, expect, test } from "bun:test";
import { isAllowed } from "../../src/net/robots.ts";
import {
  escapePattern,
  groupFor,
  parseRobots,
  productTokenOf,
  ROBOTS_MAX_LINE_BYTES,
} from "../../src/net/robots-parse.ts";

/** Whether the crawler named `agent` may fetch `url` under `robots` (text or raw bytes). */
function allowed(robots: string | Uint8Array, agent: string, url: string): boolean {
  const u = new URL(url);
  return isAllowed(groupFor(parseRobots(robots), agent), u.pathname + u.search);
}

type Case = [url: string, agent: string, want: boolean];

function table(name: string, robots: string | Uint8Array, cases: Case[]) {
  describe(name, () => {
    for (const [url, agent, want] of cases)
      test(`${agent} ${url} → ${want ? "allowed" : "disallowed"}`, () =>
        expect(allowed(robots, agent, url)).toBe(want));
  });
}

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...Buffer.from(p, "utf8")] : p)));

describe("line syntax", () => {
  table("a missing colon is accepted", "user-agent FooBot\ndisallow /\n", [
    ["http://foo.bar/x/y", "FooBot", false],
  ]);
  table("unknown keys are no rules", "foo: FooBot\nbar: /\n", [["http://foo.bar/x/y", "FooBot", true]]);
  table("without a colon, more than two words is no rule", "user-agent FooBot\ndisallow / x\n", [
    ["http://foo.bar/x/y", "FooBot", true],
  ]);
  for (const robots of [
    "USER-AGENT: FooBot\nALLOW: /x/\nDISALLOW: /\n",
    "user-agent: FooBot\nallow: /x/\ndisallow: /\n",
    "uSeR-aGeNt: FooBot\nAlLoW: /x/\ndIsAlLoW: /\n",
  ])
    table(`keys ignore case: ${JSON.stringify(robots.slice(0, 10))}`, robots, [
      ["http://foo.bar/x/y", "FooBot", true],
      ["http://foo.bar/a/b", "FooBot", false],
    ]);
  for (const key of ["useragent", "user agent", "User-Agent"])
    for (const disallow of ["dissallow", "dissalow", "disalow", "diasllow", "disallaw", "Disallow"])
      table(`misspelled keys: ${key} / ${disallow}`, `${key}: FooBot\n${disallow}: /private\n`, [
        ["http://foo.bar/private/1", "FooBot", false],
        ["http://foo.bar/public", "FooBot", true],
      ]);
  table(
    "line endings: CR, LF, CRLF, mixed, no final newline",
    "User-Agent: foo\rAllow: /a\r\nUser-Agent: bar\n\r\nDisallow: /",
    [
      ["http://foo.bar/a", "foo", true],
      ["http://foo.bar/b", "foo", true],
      ["http://foo.bar/b", "bar", false],
    ],
  );
  table(
    "comments end a line; a comment-only line is nothing",
    "User-agent: FooBot\n# Disallow: /\nDisallow: /foo/quz#qux\nAllow: /\n",
    [
      ["http://foo.bar/foo/bar", "FooBot", true],
      ["http://foo.bar/foo/quz", "FooBot", false],
    ],
  );
});

describe("groups", () => {
  const robots =
    "allow: /foo/bar/\n\nuser-agent: FooBot\ndisallow: /\nallow: /x/\nuser-agent: BarBot\ndisallow: /\nallow: /y/\n\n\nallow: /w/\nuser-agent: BazBot\n\nuser-agent: FooBot\nallow: /z/\ndisallow: /\n";
  table("a group runs until the next user-agent after a rule; groups of one agent merge", robots, [
    ["http://foo.bar/x/b", "FooBot", true],
    ["http://foo.bar/z/d", "FooBot", true],
    ["http://foo.bar/y/c", "FooBot", false],
    ["http://foo.bar/y/c", "BarBot", true],
    ["http://foo.bar/w/a", "BarBot", true],
    ["http://foo.bar/z/d", "BarBot", false],
    ["http://foo.bar/z/d", "BazBot", true],
    // rules before any user-agent belong to no group
    ["http://foo.bar/foo/bar/", "FooBot", false],
    ["http://foo.bar/foo/bar/", "BarBot", false],
    ["http://foo.bar/foo/bar/", "BazBot", false],
  ]);
  table(
    "a sitemap line does not close a run of user-agents",
    "User-agent: BarBot\nSitemap: https://foo.bar/sitemap\nUser-agent: *\nDisallow: /\n",
    [
      ["http://foo.bar/", "FooBot", false],
      ["http://foo.bar/", "BarBot", false],
    ],
  );
  table(
    "an unknown line does not close it either",
    "User-agent: FooBot\nInvalid-Unknown-Line: unknown\nUser-agent: *\nDisallow: /\n",
    [
      ["http://foo.bar/", "FooBot", false],
      ["http://foo.bar/", "BarBot", false],
    ],
  );
  table(
    "nor does a crawl-delay line",
    "User-agent: FooBot\nCrawl-delay: 1\nUser-agent: BarBot\nDisallow: /\n",
    [
      ["http://foo.bar/", "FooBot", false],
      ["http://foo.bar/", "BarBot", false],
      ["http://foo.bar/", "QuxBot", true],
    ],
  );
  table(
    "the global group applies only when no group names the crawler",
    "user-agent: *\nallow: /\nuser-agent: FooBot\ndisallow: /\n",
    [
      ["http://foo.bar/x/y", "FooBot", false],
      ["http://foo.bar/x/y", "BarBot", true],
    ],
  );
  table(
    "only specific groups: others are unrestricted",
    "user-agent: FooBot\nallow: /\nuser-agent: BarBot\ndisallow: /\nuser-agent: BazBot\ndisallow: /\n",
    [["http://foo.bar/x/y", "QuxBot", true]],
  );
  table(
    "a group naming the crawler replaces the global one entirely",
    "User-agent: *\nDisallow: /x/\nUser-agent: FooBot\nDisallow: /y/\n",
    [
      ["http://foo.bar/x/page", "FooBot", true],
      ["http://foo.bar/y/page", "FooBot", false],
    ],
  );
  table("`* anything` is the global group", "User-agent: * everyone\nDisallow: /\n", [
    ["http://foo.bar/x", "FooBot", false],
  ]);
  table("`*x` is not the global group", "User-agent: *bot\nDisallow: /\n", [
    ["http://foo.bar/x", "FooBot", true],
  ]);
  table("empty robots.txt allows everything", "", [["http://foo.bar/x", "FooBot", true]]);
});

describe("user-agent values", () => {
  for (const robots of [
    "User-Agent: FOO BAR\nAllow: /x/\nDisallow: /\n",
    "User-Agent: foo bar\nAllow: /x/\nDisallow: /\n",
    "User-Agent: FoO bAr\nAllow: /x/\nDisallow: /\n",
  ])
    table(`cut to the product token, any case: ${robots.split("\n")[0]}`, robots, [
      ["http://foo.bar/x/y", "Foo", true],
      ["http://foo.bar/a/b", "Foo", false],
      ["http://foo.bar/x/y", "foo", true],
      ["http://foo.bar/a/b", "foo", false],
    ]);
  table(
    "a crawler named with a space never matches a cut value",
    "User-Agent: *\nDisallow: /\nUser-Agent: Foo Bar\nAllow: /x/\nDisallow: /\n",
    [
      ["http://foo.bar/x/y", "Foo", true],
      ["http://foo.bar/x/y", "Foo Bar", false],
    ],
  );
  table("digits end the token: AB42bot applies to AB", "User-agent: AB42bot\nDisallow: /\n", [
    ["http://foo.bar/x", "AB", false],
    ["http://foo.bar/x", "AB42bot", true],
  ]);
  table("a version is cut off: FooBot/2.1 applies to FooBot", "User-agent: FooBot/2.1\nDisallow: /\n", [
    ["http://foo.bar/x", "foobot", false],
  ]);
  test("productTokenOf keeps letters, `_` and `-` only", () => {
    expect(productTokenOf("Foobot-Bar")).toBe("Foobot-Bar");
    expect(productTokenOf("Foo_Bar baz")).toBe("Foo_Bar");
    expect(productTokenOf("Foobot/2.1")).toBe("Foobot");
    expect(productTokenOf("Foobot*")).toBe("Foobot");
    expect(productTokenOf(" Foobot")).toBe("");
    expect(productTokenOf("ツ")).toBe("");
  });
});

describe("byte order mark", () => {
  const rest = "User-Agent: foo\nDisallow: /AnyValue\n";
  table("whole BOM skipped", bytes([0xef, 0xbb, 0xbf], rest), [["http://foo.bar/AnyValue", "foo", false]]);
  table("two bytes of a BOM skipped", bytes([0xef, 0xbb], rest), [["http://foo.bar/AnyValue", "foo", false]]);
  table("one byte of a BOM skipped", bytes([0xef], rest), [["http://foo.bar/AnyValue", "foo", false]]);
  table("a BOM as text skipped", `\uFEFF${rest}`, [["http://foo.bar/AnyValue", "foo", false]]);
  table("a broken BOM spoils the first line", bytes([0xef, 0x11, 0xbf], rest), [
    ["http://foo.bar/AnyValue", "foo", true],
  ]);
  table(
    "a BOM in the middle spoils its line",
    bytes("User-Agent: foo\n", [0xef, 0xbb, 0xbf], "Disallow: /AnyValue\n"),
    [["http://foo.bar/AnyValue", "foo", true]],
  );
});

describe("longest match, Allow on a tie", () => {
  const url = "http://foo.bar/x/page.html";
  table("disallow /x/page.html, allow /x/", "user-agent: FooBot\ndisallow: /x/page.html\nallow: /x/\n", [
    [url, "FooBot", false],
  ]);
  table("allow /x/page.html, disallow /x/", "user-agent: FooBot\nallow: /x/page.html\ndisallow: /x/\n", [
    [url, "FooBot", true],
    ["http://foo.bar/x/", "FooBot", false],
  ]);
  table("empty allow and disallow", "user-agent: FooBot\ndisallow: \nallow: \n", [[url, "FooBot", true]]);
  table("equal patterns: allow", "user-agent: FooBot\ndisallow: /\nallow: /\n", [[url, "FooBot", true]]);
  table("equal long patterns: allow", "user-agent: FooBot\ndisallow: /x/page.html\nallow: /x/page.html\n", [
    [url, "FooBot", true],
  ]);
  table("/x against /x/", "user-agent: FooBot\ndisallow: /x\nallow: /x/\n", [
    ["http://foo.bar/x", "FooBot", false],
    ["http://foo.bar/x/", "FooBot", true],
  ]);
  table(
    "a wildcard rule is as long as it is written",
    "user-agent: FooBot\nallow: /page\ndisallow: /*.html\n",
    [
      ["http://foo.bar/page.html", "FooBot", false],
      ["http://foo.bar/page", "FooBot", true],
    ],
  );
  table("allow /x/page. beats disallow /*.html", "user-agent: FooBot\nallow: /x/page.\ndisallow: /*.html\n", [
    [url, "FooBot", true],
    ["http://foo.bar/x/y.html", "FooBot", false],
  ]);
  table("allow /p beats disallow /", "user-agent: FooBot\nallow: /p\ndisallow: /\n", [
    ["http://example.com/page", "FooBot", true],
  ]);
  table("allow /folder ties disallow /folder", "user-agent: FooBot\nallow: /folder\ndisallow: /folder\n", [
    ["http://example.com/folder/page", "FooBot", true],
  ]);
  table("disallow /*.htm beats allow /page", "user-agent: FooBot\nallow: /page\ndisallow: /*.htm\n", [
    ["http://example.com/page.htm", "FooBot", false],
  ]);
  table("allow /$ and disallow /", "user-agent: FooBot\nallow: /$\ndisallow: /\n", [
    ["http://example.com/", "FooBot", true],
    ["http://example.com/page.html", "FooBot", false],
  ]);
  table("rules are case-sensitive", "user-agent: FooBot\ndisallow: /X/\n", [
    ["http://foo.bar/x/y", "FooBot", true],
  ]);
});

describe("special characters", () => {
  table("`*` in the middle", "User-agent: FooBot\nDisallow: /foo/bar/quz\nAllow: /foo/*/qux\n", [
    ["http://foo.bar/foo/bar/quz", "FooBot", false],
    ["http://foo.bar/foo/quz", "FooBot", true],
    ["http://foo.bar/foo//quz", "FooBot", true],
    ["http://foo.bar/foo/bax/quz", "FooBot", true],
  ]);
  table("`$` at the end", "User-agent: FooBot\nDisallow: /foo/bar$\nAllow: /foo/bar/qux\n", [
    ["http://foo.bar/foo/bar", "FooBot", false],
    ["http://foo.bar/foo/bar/qux", "FooBot", true],
    ["http://foo.bar/foo/bar/", "FooBot", true],
    ["http://foo.bar/foo/bar/baz", "FooBot", true],
  ]);
  table("`$` elsewhere is a plain character", "User-agent: FooBot\nDisallow: /a$b\n", [
    ["http://foo.bar/a$b/c", "FooBot", false],
    ["http://foo.bar/a", "FooBot", true],
  ]);
});

describe("percent-encoding", () => {
  table(
    "a query with a URL in it is compared as is",
    "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar?qux=taz&baz=http://foo.bar?tar&par\n",
    [["http://foo.bar/foo/bar?qux=taz&baz=http://foo.bar?tar&par", "FooBot", true]],
  );
  for (const rule of ["/foo/bar/ツ", "/foo/bar/%E3%83%84", "/foo/bar/%e3%83%84"])
    table(
      `non-ASCII in a rule, raw or escaped: ${rule}`,
      `User-agent: FooBot\nDisallow: /\nAllow: ${rule}\n`,
      [
        ["http://foo.bar/foo/bar/%E3%83%84", "FooBot", true],
        ["http://foo.bar/foo/bar/other", "FooBot", false],
      ],
    );
  // The crawler requests /foo/bar/%62%61%7A as /foo/bar/baz (its canonical form), which the rule
  // does not name: an escaped unreserved character in a rule is not its decoded self.
  table(
    "escaped unreserved characters in a rule are compared as written",
    "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%62%61%7A\n",
    [
      ["http://foo.bar/foo/bar/baz", "FooBot", false],
      ["http://foo.bar/foo/bar/%62%61%7A", "FooBot", false],
    ],
  );
  test("escapePattern encodes octets ≥ 0x80 and uppercases escapes, decoding nothing", () => {
    expect(escapePattern("http://www.example.com")).toBe("http://www.example.com");
    expect(escapePattern("/a/b/c")).toBe("/a/b/c");
    expect(escapePattern("á")).toBe("%C3%A1");
    expect(escapePattern("%aa")).toBe("%AA");
    expect(escapePattern("/%62%61%7a")).toBe("/%62%61%7A");
    expect(escapePattern("/%1a%b2%C3")).toBe("/%1A%B2%C3");
    expect(escapePattern("/SanJoséSellers")).toBe("/SanJos%C3%A9Sellers");
  });
  test("raw bytes that are not UTF-8 are escaped byte by byte", () => {
    const robots = bytes("User-agent: *\nDisallow: /caf", [0xe9], "\n");
    expect(groupFor(parseRobots(robots), "x").rules).toEqual([{ allow: false, pattern: "/caf%E9" }]);
    expect(allowed(robots, "x", "http://foo.bar/caf%E9/x")).toBe(false);
  });
  test("a UTF-8 continuation byte 0xA0 is not trimmed as a space", () => {
    expect(groupFor(parseRobots("User-agent: *\nDisallow: /voilà\n"), "x").rules).toEqual([
      { allow: false, pattern: "/voil%C3%A0" },
    ]);
  });
});

describe("index.html is its directory", () => {
  table(
    "Allow: /dir/index.html also allows /dir/ exactly",
    "User-Agent: *\nAllow: /allowed-slash/index.html\nDisallow: /\n",
    [
      ["http://foo.com/allowed-slash/", "foobot", true],
      ["http://foo.com/allowed-slash/index.htm", "foobot", false],
      ["http://foo.com/allowed-slash/index.html", "foobot", true],
      ["http://foo.com/allowed-slash/other", "foobot", false],
      ["http://foo.com/anyother-url", "foobot", false],
    ],
  );
  table("index.htm too", "User-Agent: *\nAllow: /d/index.htm\nDisallow: /\n", [
    ["http://foo.com/d/", "foobot", true],
  ]);
  table("not for Disallow", "User-Agent: *\nDisallow: /d/index.html\n", [
    ["http://foo.com/d/", "foobot", true],
  ]);
});

describe("Google's documentation examples", () => {
  const base = "user-agent: FooBot\ndisallow: /\n";
  table("allow /fish", `${base}allow: /fish\n`, [
    ["http://foo.bar/bar", "FooBot", false],
    ["http://foo.bar/fish", "FooBot", true],
    ["http://foo.bar/fish.html", "FooBot", true],
    ["http://foo.bar/fish/salmon.html", "FooBot", true],
    ["http://foo.bar/fishheads", "FooBot", true],
    ["http://foo.bar/fishheads/yummy.html", "FooBot", true],
    ["http://foo.bar/fish.html?id=anything", "FooBot", true],
    ["http://foo.bar/Fish.asp", "FooBot", false],
    ["http://foo.bar/catfish", "FooBot", false],
    ["http://foo.bar/?id=fish", "FooBot", false],
  ]);
  table("allow /fish*", `${base}allow: /fish*\n`, [
    ["http://foo.bar/bar", "FooBot", false],
    ["http://foo.bar/fish", "FooBot", true],
    ["http://foo.bar/fishheads/yummy.html", "FooBot", true],
    ["http://foo.bar/Fish.bar", "FooBot", false],
    ["http://foo.bar/?id=fish", "FooBot", false],
  ]);
  table("allow /fish/", `${base}allow: /fish/\n`, [
    ["http://foo.bar/fish/", "FooBot", true],
    ["http://foo.bar/fish/?salmon", "FooBot", true],
    ["http://foo.bar/fish", "FooBot", false],
    ["http://foo.bar/fish.html", "FooBot", false],
    ["http://foo.bar/Fish/Salmon.html", "FooBot", false],
  ]);
  table("allow /*.php", `${base}allow: /*.php\n`, [
    ["http://foo.bar/filename.php", "FooBot", true],
    ["http://foo.bar/folder/filename.php?parameters", "FooBot", true],
    ["http://foo.bar//folder/any.php.file.html", "FooBot", true],
    ["http://foo.bar/filename.php/", "FooBot", true],
    ["http://foo.bar/index?f=filename.php/", "FooBot", true],
    ["http://foo.bar/php/", "FooBot", false],
    ["http://foo.bar/index?php", "FooBot", false],
    ["http://foo.bar/windows.PHP", "FooBot", false],
  ]);
  table("allow /*.php$", `${base}allow: /*.php$\n`, [
    ["http://foo.bar/filename.php", "FooBot", true],
    ["http://foo.bar/folder/filename.php", "FooBot", true],
    ["http://foo.bar/filename.php?parameters", "FooBot", false],
    ["http://foo.bar/filename.php/", "FooBot", false],
    ["http://foo.bar/filename.php5", "FooBot", false],
    ["http://foo.bar/aaaphpaaa", "FooBot", false],
    ["http://foo.bar//windows.PHP", "FooBot", false],
  ]);
  table("allow /fish*.php", `${base}allow: /fish*.php\n`, [
    ["http://foo.bar/fish.php", "FooBot", true],
    ["http://foo.bar/fishheads/catfish.php?parameters", "FooBot", true],
    ["http://foo.bar/Fish.PHP", "FooBot", false],
  ]);
});

describe("long lines", () => {
  // Google reads 2083 × 8 − 1 bytes of a line; the rest of it is ignored.
  test("a Disallow is cut where the line is cut", () => {
    const prefix = "disallow: ";
    const long = `/x/${"a".repeat(ROBOTS_MAX_LINE_BYTES - prefix.length - 3)}`;
    const robots = `user-agent: FooBot\n${prefix}${long}/qux\n`;
    expect(allowed(robots, "FooBot", "http://foo.bar/fux")).toBe(true);
    expect(allowed(robots, "FooBot", `http://foo.bar${long}/fux`)).toBe(false);
  });
  test("two long Allows, each cut", () => {
    const prefix = "allow: ";
    const n = ROBOTS_MAX_LINE_BYTES - prefix.length - 3;
    const a = `/x/${"a".repeat(n)}`;
    const b = `/x/${"b".repeat(n)}`;
    const robots = `user-agent: FooBot\ndisallow: /\n${prefix}${a}/qux\n${prefix}${b}/qux\n`;
    expect(allowed(robots, "FooBot", "http://foo.bar/")).toBe(false);
    expect(allowed(robots, "FooBot", `http://foo.bar${a}/qux`)).toBe(true);
    expect(allowed(robots, "FooBot", `http://foo.bar${b}/fux`)).toBe(true);
  });
});

describe("our one difference", () => {
  table("/robots.txt itself is always allowed", "User-agent: *\nDisallow: /\n", [
    ["http://foo.bar/robots.txt", "FooBot", true],
    ["http://foo.bar/robots.txt?x=1", "FooBot", true],
    ["http://foo.bar/robots.txt.bak", "FooBot", false],
  ]);
});
