// `docstokg serve`: the status endpoint and page over an existing state directory; read-only (the
// database opened read-only) unless status.token is set, which adds the control routes.
import { defineCommand } from "citty";
import { ListenError } from "../status/listen.ts";
import { NoStateError, openReadOnlyStatus } from "../status/read-only.ts";
import { startStatusServer } from "../status/server.ts";
import { SchemaTooNewError, SchemaTooOldError } from "../store/db.ts";
import { createContext, globalArgs, RuntimeFailure, UsageError } from "./common.ts";

/** How often the dashboard's throughput chart gets a sample. */
const SAMPLE_EVERY_MS = 5000;

export const serveCommand = defineCommand({
  meta: {
    name: "serve",
    description: `Serve the status page and its JSON API over a state directory (no jobs run): jobs by state,
reason and search, failures by reason, yield, runners and hosts. Read-only (the database opened
read-only, so a read-only state directory works) unless status.token is set: then pause, resume, retry-failed and requeue work with
"Authorization: Bearer <token>". On a non-loopback address the read routes need status.token or
status.read_token too.

Examples:
  docstokg serve --state-dir /var/lib/docstokg
  docstokg serve --listen 127.0.0.1:9000
  DOCSTOKG_STATUS__TOKEN=$(cat /etc/docstokg/token) docstokg serve --listen 0.0.0.0:8787`,
  },
  args: {
    ...globalArgs,
    listen: {
      type: "string",
      description: "Address to listen on [status.listen, 127.0.0.1:8787]",
      valueHint: "ADDR",
    },
  },
  run: async ({ args }) => {
    const ctx = await createContext(args, { flags: { listen: "status.listen" } });
    const listen = ctx.config.status.listen;
    let status: ReturnType<typeof openReadOnlyStatus>;
    try {
      status = openReadOnlyStatus(ctx.config);
    } catch (err) {
      if (err instanceof NoStateError || err instanceof SchemaTooNewError) throw new UsageError(err.message);
      if (err instanceof SchemaTooOldError) throw new RuntimeFailure(err.message);
      const message = err instanceof Error ? err.message : String(err);
      throw new RuntimeFailure(
        `cannot open the queue database in ${ctx.config.state_dir} for reading: ${message}`,
      );
    }
    let server: ReturnType<typeof startStatusServer>;
    try {
      server = startStatusServer(listen, status.app, {
        token: ctx.config.status.token ?? ctx.config.status.read_token,
      });
    } catch (err) {
      status.close();
      if (err instanceof ListenError) throw new UsageError(`--listen: ${err.message}`);
      throw err;
    }
    const timer = setInterval(() => {
      try {
        status.sample();
      } catch (err) {
        ctx.log.warn("throughput sample failed", err);
      }
    }, SAMPLE_EVERY_MS);
    const mode = ctx.config.status.token ? "with controls" : "read-only";
    ctx.log.info(`status endpoint (${mode}) at ${server.url.href}`, {
      url: server.url.href,
      state_dir: ctx.config.state_dir,
    });
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    clearInterval(timer);
    await server.stop();
    status.close();
    ctx.log.info(`stopped on ${signal}`);
  },
});
