import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { type ConfigInput, ConfigSchema } from "../../src/config/schema.ts";
import { ResolverSlots } from "../../src/politeness/resolver-slots.ts";

const slots = (input: ConfigInput) => new ResolverSlots(v.parse(ConfigSchema, input));

describe("ResolverSlots", () => {
  test("the limit is min(politeness.max_per_resolver, resolvers.<name>.max_concurrent)", () => {
    const s = slots({ politeness: { max_per_resolver: 3 }, resolvers: { crossref: { max_concurrent: 2 } } });
    expect(s.limit("crossref")).toBe(2);
    expect(s.limit("unpaywall")).toBe(3); // its own default (4) is above the global one
    expect(s.limit("no-such-resolver")).toBe(3);
  });

  test("a resolver's metadata and landing requests take a slot; its files and anonymous requests do not", () => {
    const s = slots({});
    expect(s.takesSlot("crossref", "metadata")).toBe(true);
    expect(s.takesSlot("unpaywall", "landing")).toBe(true);
    expect(s.takesSlot("direct", "artifact")).toBe(false);
    expect(s.takesSlot(undefined, "metadata")).toBe(false);
  });

  test("slots are counted per resolver, up to its limit", () => {
    const s = slots({ resolvers: { crossref: { max_concurrent: 1 } } });
    const first = s.tryAcquire("crossref");
    expect(first?.release).toBeFunction();
    expect(s.tryAcquire("crossref")).toBeUndefined();
    expect(s.tryAcquire("unpaywall")?.release).toBeFunction();
    first?.release();
    expect(s.tryAcquire("crossref")?.release).toBeFunction();
  });
});
