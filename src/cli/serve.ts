// `docstokg serve`: the read-only status endpoint and dashboard over an existing state directory.
import { defineCommand } from "citty";
import { globalArgs, notAvailable } from "./common.ts";

export const serveCommand = defineCommand({
  meta: {
    name: "serve",
    description: `Serve the status endpoint and dashboard over a state directory, read-only (no jobs run).

Examples:
  docstokg serve --state-dir /var/lib/docstokg
  docstokg serve --listen 127.0.0.1:9000`,
  },
  args: {
    ...globalArgs,
    listen: { type: "string", description: "Address to listen on [127.0.0.1:8787]", valueHint: "ADDR" },
  },
  run: () => notAvailable("serve"),
});
