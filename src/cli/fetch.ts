// `docstokg fetch` and `docstokg resolve`: one-off work in the foreground, no runner needed.
import { defineCommand } from "citty";
import { globalArgs, notAvailable } from "./common.ts";

export const fetchCommand = defineCommand({
  meta: {
    name: "fetch",
    description: `Resolve and download works now, in the foreground, through the same pipeline as the runner.
Prints one line per work with its outcome and path; exit 0 when every work was obtained, 1 otherwise.

Examples:
  docstokg fetch 10.1038/nature12373
  docstokg fetch https://arxiv.org/pdf/2101.00001 PMC3531190 --out ./papers`,
  },
  args: { ...globalArgs, json: { type: "boolean", description: "Print one JSON outcome per line" } },
  run: () => notAvailable("fetch"),
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
