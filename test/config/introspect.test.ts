import { describe, expect, test } from "bun:test";
import { coerceText } from "../../src/config/coerce.ts";
import {
  defaultOf,
  describeExpected,
  describeKey,
  formatPath,
  type SchemaNode,
  schemaAt,
} from "../../src/config/introspect.ts";
import { SCHEMA } from "../../src/config/load.ts";

const at = (dotted: string) => schemaAt(SCHEMA, dotted.split(".")) as SchemaNode;

describe("schemaAt", () => {
  test("finds keys in tables, keyed tables and lists; unknown keys are undefined", () => {
    expect(at("orchestrator.max_workers")).toBeDefined();
    expect(schemaAt(SCHEMA, ["politeness", "hosts", "any.host", "rate"])).toBeDefined();
    expect(schemaAt(SCHEMA, ["resolvers", "tiers", "0", "1"])).toBeDefined();
    expect(schemaAt(SCHEMA, ["orchestrator", "max_worker"])).toBeUndefined();
    expect(schemaAt(SCHEMA, ["state_dir", "deeper"])).toBeUndefined();
    expect(schemaAt(SCHEMA, ["constructor"])).toBeUndefined();
  });
});

describe("describeExpected says what a value must be", () => {
  test.each([
    ["orchestrator.max_workers", "an integer ≥ 1"],
    ["network.max_redirects", "an integer ≥ 0"],
    ["queue.heartbeat_s", "a number ≥ 0.1 and ≤ 2147483"],
    ["politeness.robots", "true or false"],
    ["politeness.rates.metadata", 'a rate like "2/s", "1/3s", "100/min" or "1 per 3 s"'],
    ["contact_email", "an email address"],
    ["resolvers.crossref.base_url", "an absolute http(s) URL"],
    ["state_dir", "a non-empty string"],
    ["network.user_agent", "a string"],
    ["network.allow_private", 'a list of items, each a CIDR like "127.0.0.0/8" or "fc00::/7"'],
    ["queue", "a table of settings"],
  ])("%s → %s", (path, expected) => {
    expect(describeExpected(at(path))).toBe(expected);
  });

  test("resolver tiers: a list of lists of the known resolver names", () => {
    expect(describeExpected(at("resolvers.tiers"))).toStartWith(
      "a list of lists of names (direct, unpaywall,",
    );
  });
});

test("defaults and descriptions come from the schema", () => {
  expect(defaultOf(at("orchestrator.max_workers"))).toBe(16);
  expect(defaultOf(at("contact_email"))).toBeUndefined();
  expect(describeKey(at("orchestrator.max_workers"))).toBe("Jobs processed concurrently by one runner.");
});

test("formatPath quotes keys that contain dots and indexes lists", () => {
  expect(formatPath(["politeness", "hosts", "arxiv.org", "rate"])).toBe('politeness.hosts."arxiv.org".rate');
  expect(formatPath(["resolvers", "tiers", 0, 1])).toBe("resolvers.tiers[0][1]");
});

describe("coerceText types environment and flag text like the key", () => {
  test.each([
    ["orchestrator.max_workers", "32", 32],
    ["orchestrator.max_workers", " 7 ", 7],
    ["orchestrator.max_workers", "abc", "abc"],
    ["orchestrator.max_workers", "", ""],
    ["queue.heartbeat_s", "0.5", 0.5],
    ["politeness.robots", "off", false],
    ["politeness.robots", "TRUE", true],
    ["politeness.robots", "maybe", "maybe"],
    ["network.allow_private", "10.0.0.0/8,127.0.0.1/32", ["10.0.0.0/8", "127.0.0.1/32"]],
    ["network.allow_private", '["::1/128"]', ["::1/128"]],
    ["network.allow_private", "[broken", "[broken"],
    ["network.allow_private", " ", []],
    ["state_dir", "42", "42"],
    ["politeness.hosts", '{"a.org":{"rate":"1/s"}}', { "a.org": { rate: "1/s" } }],
  ])("%s = %p", (path, text, expected) => {
    expect(coerceText(text, at(path))).toEqual(expected);
  });

  test("text for an unknown key stays text", () => {
    expect(coerceText("5", undefined)).toBe("5");
  });
});
