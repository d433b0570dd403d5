import { describe, expect, test } from "bun:test";
import { createLogger, scrub } from "../../src/cli/log.ts";

function collector(isTTY = false) {
  const lines: string[] = [];
  return { sink: { isTTY, write: (t: string) => void lines.push(t) }, lines };
}

describe("JSON lines", () => {
  test("one object per line: level, ISO time, msg, then the fields", () => {
    const { sink, lines } = collector();
    const log = createLogger({ level: "info", format: "json", sink });
    log.info("leased jobs", { count: 3, host: "arxiv.org" });
    log.warn("slow host");
    log.error(new Error("disk full"));
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.endsWith("\n") && !line.slice(0, -1).includes("\n")).toBe(true);
    const [first, second, third] = lines.map((l) => JSON.parse(l));
    expect(first).toEqual({
      level: "info",
      time: expect.any(String),
      msg: "leased jobs",
      count: 3,
      host: "arxiv.org",
    });
    expect(new Date(first.time).toISOString()).toBe(first.time);
    expect(second).toMatchObject({ level: "warn", msg: "slow host" });
    expect(third).toMatchObject({ level: "error", msg: "disk full", error: "Error" });
  });

  test("the level filters: debug is hidden at info, shown at debug; silent shows nothing", () => {
    const info = collector();
    createLogger({ level: "info", format: "json", sink: info.sink }).debug("detail");
    expect(info.lines).toEqual([]);
    const debug = collector();
    createLogger({ level: "debug", format: "json", sink: debug.sink }).debug("detail");
    expect(JSON.parse(debug.lines[0] ?? "{}")).toMatchObject({ level: "debug", msg: "detail" });
    const silent = collector();
    createLogger({ level: "silent", format: "json", sink: silent.sink }).error("boom");
    expect(silent.lines).toEqual([]);
  });

  test("repeated identical lines are all written (no throttling)", () => {
    const { sink, lines } = collector();
    const log = createLogger({ level: "info", format: "json", sink });
    for (let i = 0; i < 8; i++) log.info("same line");
    expect(lines).toHaveLength(8);
  });
});

describe("secrets never reach the log", () => {
  const secrets = ["s2-0123456789abcdef"];

  test.each(["json", "pretty"] as const)(
    "%s: secret values are scrubbed, secret-named fields redacted",
    (format) => {
      const { sink, lines } = collector(format === "pretty");
      const log = createLogger({ level: "info", format, sink, secrets });
      log.info("GET https://api.example/x?key=s2-0123456789abcdef", {
        api_key: "other-value-1",
        token: "t-123456",
      });
      const text = lines.join("");
      expect(text).toContain("GET https://api.example/x?key=REDACTED");
      expect(text).not.toContain("s2-0123456789abcdef");
      expect(text).not.toContain("other-value-1");
      expect(text).not.toContain("t-123456");
    },
  );

  test("scrub leaves text without secrets alone and ignores very short values", () => {
    expect(scrub("nothing here", ["abcd1234"])).toBe("nothing here");
    expect(scrub("a b c", ["b"])).toBe("a b c");
  });
});

test("pretty lines go to the sink (stderr), info included", () => {
  const { sink, lines } = collector(true);
  createLogger({ level: "info", format: "pretty", sink }).info("hello there");
  expect(lines.join("")).toContain("hello there");
});
