// `docstokg fetch` and `docstokg resolve`: one-off work in the foreground, no runner needed.
import { defineCommand } from "citty";
import {
  directUrl,
  fetchDirectUrl,
  foregroundClient,
  formatOutcome,
  outcomeJson,
} from "../download/direct.ts";
import { VERSION } from "../version.ts";
import {
  createContext,
  globalArgs,
  Interrupted,
  notAvailable,
  RuntimeFailure,
  UsageError,
} from "./common.ts";

export const fetchCommand = defineCommand({
  meta: {
    name: "fetch",
    description: `Resolve and download works now, in the foreground, through the same pipeline as the runner.
Prints one line per work with its outcome and path; exit 0 when every work was obtained, 1 otherwise.

Examples:
  docstokg fetch 10.1038/nature12373
  docstokg fetch https://arxiv.org/pdf/2101.00001 PMC3531190 --out ./papers`,
  },
  args: {
    ...globalArgs,
    id: { type: "positional", description: "DOI, PMCID, PMID, arXiv id or http(s) URL", required: true },
    json: { type: "boolean", description: "Print one JSON outcome per line" },
  },
  async run({ args }) {
    const inputs = [args.id, ...((args._ as string[] | undefined) ?? []).filter((x) => x !== args.id)];
    const urls = inputs.map((input) => {
      const url = directUrl(String(input));
      if (!url)
        throw new UsageError(
          `fetch: expected an http(s) URL, got "${input}" (identifiers need the resolvers)`,
        );
      return url;
    });
    const ctx = await createContext(args);
    const outDir = ctx.config.out_dir;
    const client = foregroundClient(ctx.config, VERSION);
    const abort = new AbortController();
    const onSignal = () => abort.abort("cancelled");
    process.once("SIGINT", onSignal);
    let failed = 0;
    try {
      for (const url of urls) {
        const r = await fetchDirectUrl({
          url,
          config: ctx.config,
          outDir,
          http: client.http,
          signal: abort.signal,
        });
        console.log(args.json ? outcomeJson(r) : formatOutcome(r));
        if (!r.ok) failed++;
      }
    } finally {
      process.off("SIGINT", onSignal);
      client.close();
    }
    if (abort.signal.aborted) throw new Interrupted("fetch interrupted");
    if (failed > 0) throw new RuntimeFailure(`${failed} of ${urls.length} not obtained`);
  },
});

export const resolveCommand = defineCommand({
  meta: {
    name: "resolve",
    description: `List a work's candidate URLs by tier and resolver, without downloading anything.

Examples:
  docstokg resolve 10.1038/nature12373
  docstokg resolve arXiv:2101.00001 --json`,
  },
  args: {
    ...globalArgs,
    id: { type: "positional", description: "DOI, PMCID, PMID, arXiv id or URL", required: true },
    json: { type: "boolean", description: "Print JSON" },
  },
  run: () => notAvailable("resolve"),
});
