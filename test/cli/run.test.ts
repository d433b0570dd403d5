// The command-line runner in-process, on a small command tree of its own.
import { describe, expect, test } from "bun:test";
import { defineCommand } from "citty";
import { globalArgs, Interrupted, RuntimeFailure, UsageError } from "../../src/cli/common.ts";
import { checkFlags, describeFailure, EXIT, resolveCommandPath, runCli } from "../../src/cli/run.ts";
import { ConfigError } from "../../src/config/source.ts";

const seen: Array<Record<string, unknown>> = [];
const leaf = defineCommand({
  meta: {
    name: "leaf",
    description: "Do the leaf thing.\nSecond line of detail.\n\nExamples:\n  tool group leaf x",
  },
  args: {
    ...globalArgs,
    id: { type: "positional", description: "An id", required: true },
    limit: { type: "string", description: "At most", valueHint: "N", alias: "n" },
    "dry-run": { type: "boolean", description: "Only count" },
  },
  run: ({ args }) => {
    seen.push({ ...args });
    if (args.id === "fail") throw new RuntimeFailure("it broke");
    if (args.id === "stop") throw new Interrupted();
    if (args.id === "crash") throw new TypeError("undefined is not a function");
  },
});
const root = defineCommand({
  meta: { name: "tool", description: "A tool." },
  subCommands: {
    group: defineCommand({ meta: { name: "group", description: "A group." }, subCommands: { leaf } }),
  },
});

async function run(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(root, argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

describe("resolveCommandPath", () => {
  test("skips global flags and their values before the command words", async () => {
    const { path, rest } = await resolveCommandPath(root, "tool", [
      "--config",
      "group",
      "group",
      "--debug",
      "leaf",
      "x",
    ]);
    expect(path.map((s) => s.name)).toEqual(["tool", "group", "leaf"]);
    expect(rest).toEqual(["--config", "group", "--debug", "x"]);
  });

  test("an unknown word is a usage error listing the choices", async () => {
    await expect(resolveCommandPath(root, "tool", ["group", "lief"])).rejects.toThrow(
      'unknown command "lief" for "tool group"; expected one of: leaf',
    );
  });
});

describe("checkFlags", () => {
  const args = leaf.args as Parameters<typeof checkFlags>[0];
  test.each([
    [["x", "--limit", "5"]],
    [["x", "--limit=5", "--dry-run"]],
    [["x", "-n", "5", "--dryRun"]],
    [["x", "--no-dry-run"]],
    [["x", "--", "--anything"]],
    [["-", "-5"]],
  ])("accepts %p", (argv) => {
    expect(() => checkFlags(args, argv, "tool group leaf")).not.toThrow();
  });

  test.each([
    [["x", "--limt", "5"], "unknown option --limt"],
    [["x", "-q"], "unknown option -q"],
    [["x", "--no-such"], "unknown option --no-such"],
    [["x", "--limit"], "option --limit needs a value"],
    [["x", "--limit", "--dry-run"], "option --limit needs a value"],
    [["--limit", "--", "x"], "option --limit needs a value"],
  ])("rejects %p", (argv, message) => {
    expect(() => checkFlags(args, argv, "tool group leaf")).toThrow(message);
  });
});

describe("runCli", () => {
  test("runs the leaf with its parsed arguments", async () => {
    seen.length = 0;
    expect(await run(["group", "leaf", "abc", "--limit", "3"])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(seen[0]).toMatchObject({ id: "abc", limit: "3" });
  });

  test("help anywhere on the line, with the full description; the parent shows the first line", async () => {
    const own = await run(["group", "leaf", "--help"]);
    expect(own.code).toBe(0);
    expect(own.stdout).toContain("Second line of detail.");
    expect(own.stdout).toContain("Usage: tool group leaf [options] <ID>");
    expect(own.stdout).toMatch(/ {2}-n, --limit N +At most/);
    const parent = await run(["-h", "group"]);
    expect(parent.stdout).toMatch(/Commands:\n {2}leaf +Do the leaf thing\.\n/);
    expect(parent.stdout).not.toContain("Second line");
    expect(parent.stdout).toContain("Examples:\n  tool group leaf x");
  });

  test("exit codes: failure 1, usage 2, interrupted 130; unknown errors are failures", async () => {
    expect((await run(["group", "leaf", "fail"])).code).toBe(EXIT.failure);
    expect((await run(["group", "leaf"])).code).toBe(EXIT.usage);
    expect((await run(["group", "leaf", "stop"])).code).toBe(EXIT.interrupted);
    const crash = await run(["group", "leaf", "crash"]);
    expect(crash).toEqual({ code: 1, stdout: "", stderr: "error: undefined is not a function\n" });
  });

  test("--debug appends the stack; --debug after -- is an argument, not the flag", async () => {
    const withStack = await run(["group", "leaf", "fail", "--debug"]);
    expect(withStack.stderr).toStartWith("error: it broke\nRuntimeFailure: it broke\n    at ");
    const plain = await run(["group", "leaf", "fail", "--", "--debug"]);
    expect(plain.stderr).toBe("error: it broke\n");
  });

  test("--version belongs to the root only", async () => {
    expect((await run(["--version"])).stdout).toMatch(/^docstokg \S+ \(\S+\)\n$/);
    expect((await run(["group", "leaf", "x", "--version"])).code).toBe(2);
  });
});

test("describeFailure maps every error kind", () => {
  expect(describeFailure(new ConfigError(["a: bad", "b: worse"]))).toEqual({
    lines: ["a: bad", "b: worse"],
    code: 2,
  });
  expect(describeFailure(new UsageError("--x: nope"))).toEqual({ lines: ["--x: nope"], code: 2 });
  expect(describeFailure(new RuntimeFailure("down"))).toEqual({ lines: ["down"], code: 1 });
  expect(describeFailure(new Interrupted())).toEqual({ lines: ["interrupted"], code: 130 });
  expect(describeFailure("a string")).toEqual({ lines: ["a string"], code: 1 });
});
