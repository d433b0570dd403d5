import { describe, expect, test } from "bun:test";
import { chooseConfigFile, parseConfigText, tomlErrorLine } from "../../src/config/file.ts";
import { ConfigError } from "../../src/config/source.ts";

describe("tomlErrorLine finds the line Bun's parser stopped at", () => {
  test.each([
    ["x = 1\ny = @\n", 2],
    ["a = 1\n\n\nb = 2\nb = 3\n", 5],
    ['[x]\ny = "unterminated\nz = 1\n', 2],
    ["bad line\n", 1],
  ])("%p → line %d", (text, line) => {
    expect(tomlErrorLine(text)).toBe(line);
  });

  test("an unclosed multi-line array is reported where it starts", () => {
    expect(tomlErrorLine("a = 1\nb = [\n  1,\n  2,\n")).toBe(2);
  });

  test("an error after a valid multi-line array is reported on its own line", () => {
    expect(tomlErrorLine("b = [\n  1,\n]\nc = ?\n")).toBe(4);
  });
});

test("parseConfigText: TOML by default, JSON for .json; errors name the file", () => {
  expect(parseConfigText('state_dir = "s"', "x.toml")).toEqual({ state_dir: "s" });
  expect(parseConfigText('{"state_dir": "s"}', "x.JSON")).toEqual({ state_dir: "s" });
  expect(() => parseConfigText("{", "conf.json")).toThrow(ConfigError);
  expect(() => parseConfigText("= 1", "conf.toml")).toThrow(/^conf\.toml:1: invalid TOML: /);
});

test("chooseConfigFile: flag, then DOCSTOKG_CONFIG, then ./docstokg.toml only if it exists", () => {
  const none = () => false;
  const all = () => true;
  expect(chooseConfigFile("f.toml", { DOCSTOKG_CONFIG: "e.toml" }, "/w", all)).toEqual({
    path: "f.toml",
    explicit: true,
  });
  expect(chooseConfigFile(undefined, { DOCSTOKG_CONFIG: "e.toml" }, "/w", all)).toEqual({
    path: "e.toml",
    explicit: true,
  });
  expect(chooseConfigFile(undefined, {}, "/w", all)).toEqual({ path: "docstokg.toml", explicit: false });
  expect(chooseConfigFile(undefined, {}, "/w", none)).toBeUndefined();
});
