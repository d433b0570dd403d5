// `docstokg fetch` and `docstokg resolve`: one-off work in the foreground, no runner needed.
// Thin: parse the identifiers, run the runner's job step without a lease (src/app/foreground.ts),
// print (fetch-format.ts).
import { defineCommand } from "citty";
import { type Foreground, foreground } from "../app/foreground.ts";
import { openServices } from "../app/services.ts";
import type { Artifact } from "../artifact/artifact.ts";
import { artifactFromIdentifier } from "../artifact/input.ts";
import { LibraryUnavailableError, openWritableLibrary } from "../library/open.ts";
import { formatDuration } from "../telemetry/format.ts";
import {
  type AppContext,
  createContext,
  globalArgs,
  Interrupted,
  RuntimeFailure,
  UsageError,
} from "./common.ts";
import { type FetchOutcome, fetchLine, fetchOutcome, listingOf, listingText } from "./fetch-format.ts";

/** Every identifier parsed, or one usage error naming each bad one (nothing is fetched then). */
function parseIds(raw: string[]): Artifact[] {
  if (raw.length === 0)
    throw new UsageError("expected at least one identifier (DOI, PMCID, pmid:<n>, arXiv:<id> or URL)");
  const works: Artifact[] = [];
  const bad: string[] = [];
  for (const text of raw) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim()) && !/^https?:\/\//i.test(text.trim())) {
      bad.push(`expected an http(s) URL, got ${JSON.stringify(text)}`);
      continue;
    }
    const parsed = artifactFromIdentifier(text);
    if (parsed.ok) works.push(parsed.value);
    else bad.push(`${JSON.stringify(text)}: ${parsed.reason}`);
  }
  if (bad.length) throw new UsageError(bad.join("; "));
  return works;
}

/** SIGINT/SIGTERM abort the work in flight; the command then exits 130. */
function interruptible<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return run(ctl.signal).finally(() => {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    if (ctl.signal.aborted) throw new Interrupted();
  });
}

async function withForeground<T>(ctx: AppContext, work: (f: Foreground) => Promise<T>): Promise<T> {
  // Wrong credentials or a missing bucket: one line, exit 2, before anything is asked.
  const library = await openWritableLibrary(ctx.config, process.env).catch((e) => {
    throw e instanceof LibraryUnavailableError ? new UsageError(e.message) : e;
  });
  const services = await openServices(ctx.config, {
    library,
    onSlowDown: (n) =>
      ctx.log.info(
        `${n.host} answered ${n.status} for ${n.url}; asking again (${n.retry} of ${n.of}) after ${n.retryAfterMs !== undefined ? `its Retry-After of ${formatDuration(n.retryAfterMs / 1000)}` : "the host's backoff"}`,
      ),
    onCloseError: (e) => ctx.log.warn("cleanup failed", e),
  });
  for (const w of services.warnings) ctx.log.warn(w);
  try {
    return await work(foreground(services));
  } finally {
    await services.close();
  }
}

export const fetchCommand = defineCommand({
  meta: {
    name: "fetch",
    description: `Resolve and download works now, in the foreground, through the same job step as "queue run"
(same retries, quotas, reuse of stored files, conditional requests and reasons), without a queue:
no job, attempt or manifest record is written. Prints one line per work with its outcome and path;
exit 0 when every work was obtained, 1 otherwise. A work whose next request would wait longer than
politeness.max_wait_s ends with its reason and when to try again. --json adds what a source said
about the file (license, license_url, version, host_type, oa_status), retry_at, and every request
and candidate try as attempts.

Examples:
  docstokg fetch 10.1038/nature12373
  docstokg fetch https://arxiv.org/pdf/2101.00001 PMC3531190 --out ./papers`,
  },
  args: {
    ...globalArgs,
    ids: { type: "positional", description: "DOIs, PMCIDs, pmid:<n>, arXiv:<id> or URLs", required: false },
    json: { type: "boolean", description: "Print one JSON outcome per line" },
  },
  async run({ args }) {
    const inputs = args._.map(String);
    const works = parseIds(inputs);
    const ctx = await createContext(args);
    const outcomes = await withForeground(ctx, (f) =>
      interruptible(async (signal) => {
        const results: FetchOutcome[] = new Array(works.length);
        let next = 0;
        // Works run concurrently like the runner's workers; output keeps the order given.
        const lanes = Math.max(1, Math.min(ctx.config.orchestrator.max_workers, works.length));
        let printed = 0;
        const flush = () => {
          while (printed < works.length && results[printed]) {
            const o = results[printed++] as FetchOutcome;
            const input = inputs[printed - 1] as string;
            process.stdout.write(`${args.json ? JSON.stringify({ input, ...o }) : fetchLine(o, input)}\n`);
          }
        };
        await Promise.all(
          Array.from({ length: lanes }, async () => {
            for (let i = next++; i < works.length && !signal.aborted; i = next++) {
              const work = works[i] as Artifact;
              results[i] = fetchOutcome(work.id, await f.fetch(work, signal), ctx.config.out_dir);
              flush();
            }
          }),
        );
        return results;
      }),
    );
    const missing = outcomes.filter((o) => !o.ok).length;
    if (missing > 0) throw new RuntimeFailure(`${missing} of ${outcomes.length} work(s) not obtained`);
  },
});

export const resolveCommand = defineCommand({
  meta: {
    name: "resolve",
    description: `List a work's candidate URLs by tier and resolver, without downloading anything.
Metadata APIs are asked (through the cache); files are never downloaded. Landing pages are listed
as candidates but not fetched unless --scrape is given, which fetches them to list the PDF links
they carry. The archive tier is only asked for URLs that failed to download, so it lists nothing here.

Examples:
  docstokg resolve 10.1038/nature12373
  docstokg resolve arXiv:2101.00001 --json
  docstokg resolve 10.1371/journal.pone.0033693 --scrape`,
  },
  args: {
    ...globalArgs,
    id: { type: "positional", description: "DOI, PMCID, pmid:<n>, arXiv id or URL", required: true },
    json: { type: "boolean", description: "Print JSON" },
    scrape: { type: "boolean", description: "Fetch landing pages and list the PDF links found on them" },
  },
  async run({ args }) {
    const [work] = parseIds([String(args.id)]);
    const ctx = await createContext(args);
    const progress = await withForeground(ctx, (f) =>
      interruptible((signal) => f.list(work as Artifact, { scrapeLanding: args.scrape === true, signal })),
    );
    const listing = listingOf((work as Artifact).id, ctx.config.resolvers.tiers, progress);
    process.stdout.write(args.json ? `${JSON.stringify(listing, null, 2)}\n` : listingText(listing));
  },
});
