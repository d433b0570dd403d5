// `docstokg openalex …`: pull works straight from OpenAlex into the queue, and list the pulls.
// Thin: parse the flags, take the state database's polite HTTP client from the composition root
// (src/app/services.ts), call src/openalex, print.
import { defineCommand } from "citty";
import { openServices, type Services } from "../app/services.ts";
import { dryRunPull, OpenAlexRequestError, type PullDeps, runPull } from "../openalex/pull.ts";
import { filterProblem, pullQuery } from "../openalex/query.ts";
import { SchemaTooNewError } from "../store/db.ts";
import { DatabaseTooNewError } from "../store/postgres/migrations.ts";
import {
  type AppContext,
  createContext,
  globalArgs,
  Interrupted,
  RuntimeFailure,
  UsageError,
} from "./common.ts";
import { dryRunText, endLine, pageLine, pullsTable, startLine } from "./openalex-format.ts";
import { withState } from "./state-db.ts";

function wholeNumber(value: unknown, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  const x = Number(text);
  if (text === "" || !Number.isSafeInteger(x) || x < min)
    throw new UsageError(`${flag}: expected a whole number >= ${min}, got ${JSON.stringify(value)}`);
  return x;
}

async function openState(ctx: AppContext): Promise<Services> {
  try {
    // Nothing is downloaded here: the library and its temp files are left alone.
    return await openServices(ctx.config, {
      sweepTemp: false,
      onCloseError: (e) => ctx.log.warn("cleanup failed", e),
    });
  } catch (error) {
    if (error instanceof SchemaTooNewError || error instanceof DatabaseTooNewError)
      throw new UsageError(error.message);
    const message = error instanceof Error ? error.message : String(error);
    const where = ctx.config.database_url
      ? "the PostgreSQL database"
      : `the queue database in ${ctx.config.state_dir}`;
    throw new RuntimeFailure(`cannot open ${where}: ${message}`);
  }
}

const importCmd = defineCommand({
  meta: {
    name: "import",
    description: `Queue the works an OpenAlex query matches, page by page (200 works a page, cursor paging).
A pull is known by its filter and search: run the same command again to resume it after an interruption
or a --max; a complete pull says so and asks nothing. Needs resolvers.openalex.api_key (OPENALEX_API_KEY);
resolvers.openalex.max_cost_usd stops a pull before it spends more.

Examples:
  docstokg openalex import --filter 'authorships.institutions.lineage:I27837315,publication_year:>2019,is_oa:true'
  docstokg openalex import --search 'coral bleaching' --dry-run
  docstokg openalex import --filter 'topics.id:T10017' --max 5000 --priority 5`,
  },
  args: {
    ...globalArgs,
    filter: {
      type: "string",
      description: "OpenAlex filter, comma-separated key:value (as in /works?filter=)",
      valueHint: "FILTER",
    },
    search: {
      type: "string",
      description: "OpenAlex full-text search (search=; costs more per page)",
      valueHint: "TEXT",
    },
    max: {
      type: "string",
      description: "Take at most N works in this run (the pull continues later)",
      valueHint: "N",
    },
    "dry-run": { type: "boolean", description: "Print the count, pages and estimated cost; queue nothing" },
    priority: {
      type: "string",
      description: "Priority of the queued jobs (higher first) [0]",
      valueHint: "N",
    },
    json: { type: "boolean", description: "Print the result as JSON" },
  },
  async run({ args }) {
    const filter = args.filter === undefined ? "" : String(args.filter);
    const search = args.search === undefined ? "" : String(args.search);
    const problem = filterProblem(filter);
    if (problem) throw new UsageError(`--filter: ${problem}`);
    const query = pullQuery(filter, search);
    if (!query.filter && !query.search)
      throw new UsageError(
        "expected --filter or --search (a pull of every OpenAlex work is not what anyone wants)",
      );
    const max = wholeNumber(args.max, "--max", 1);
    let priority: number | undefined;
    if (args.priority !== undefined) {
      const text = String(args.priority).trim();
      priority = Number(text);
      if (text === "" || !Number.isSafeInteger(priority))
        throw new UsageError(
          `--priority: expected a whole number (higher runs first), got ${JSON.stringify(args.priority)}`,
        );
    }
    const ctx = await createContext(args);
    const services = await openState(ctx);
    const { http, settings, quota, now } = services;
    if (!settings.openalexApiKey)
      ctx.log.warn(
        "no OpenAlex API key (resolvers.openalex.api_key or OPENALEX_API_KEY): OpenAlex allows about $0.01 a day without one",
      );
    const ctl = new AbortController();
    const stop = () => ctl.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    const deps: PullDeps = {
      pulls: services.stores.pulls,
      http,
      config: ctx.config,
      apiKey: settings.openalexApiKey,
      email: settings.email,
      now,
      signal: ctl.signal,
      quota,
      onPage: (p) => ctx.log.info(pageLine(p)),
    };
    try {
      if (args["dry-run"]) {
        let d: Awaited<ReturnType<typeof dryRunPull>>;
        try {
          d = await dryRunPull(deps, query);
        } catch (e) {
          if (ctl.signal.aborted) throw new Interrupted();
          if (e instanceof OpenAlexRequestError) throw new RuntimeFailure(e.message);
          throw e;
        }
        process.stdout.write(args.json ? `${JSON.stringify(d)}\n` : dryRunText(d));
        return;
      }
      const r = await runPull(
        { ...deps, onStart: (pull) => ctx.log.info(startLine(pull)) },
        { query, max, priority },
      );
      const { text, failure } = endLine(r);
      if (args.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      if (r.end === "interrupted") throw new Interrupted(text);
      if (failure) throw new RuntimeFailure(text);
      if (!args.json) process.stdout.write(`${text}\n`);
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      await services.close();
    }
  },
});

const listCmd = defineCommand({
  meta: {
    name: "list",
    description: `The OpenAlex pulls of this state (the state directory, or PostgreSQL with database_url): query, pages, works, state and last update.

Examples:
  docstokg openalex list
  docstokg openalex list --json`,
  },
  args: { ...globalArgs, json: { type: "boolean", description: "Print one JSON object per pull" } },
  async run({ args }) {
    const ctx = await createContext(args);
    await withState(ctx.config, { readOnly: true }, async (state) => {
      const pulls = await state.pulls.list();
      process.stdout.write(
        args.json ? pulls.map((p) => `${JSON.stringify(p)}\n`).join("") : pullsTable(pulls),
      );
    });
  },
});

export const openalexCommand = defineCommand({
  meta: {
    name: "openalex",
    description: "Pull works from OpenAlex queries into the queue, and list the pulls.",
  },
  subCommands: { import: importCmd, list: listCmd },
});
