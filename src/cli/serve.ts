// `docstokg serve`: the status endpoint and page over existing state (SQLite in state_dir, or the
// fleet's PostgreSQL by database_url); read-only (SQLite opened read-only) unless status.token is
// set, which adds the control routes. The page is wired in app/serve.ts.
import { defineCommand } from "citty";
import { serveStatus } from "../app/serve.ts";
import { ListenError } from "../status/listen.ts";
import { startStatusServer } from "../status/server.ts";
import { createContext, globalArgs, UsageError } from "./common.ts";
import { openCommandState } from "./state-db.ts";

/** How often the dashboard's throughput chart gets a sample. */
const SAMPLE_EVERY_MS = 5000;

export const serveCommand = defineCommand({
  meta: {
    name: "serve",
    description: `Serve the status page and its JSON API over a state directory, or over the fleet's PostgreSQL
with database_url (no jobs run): jobs by state, reason and search, failures by reason, yield,
runners and hosts. Read-only (a SQLite database opened read-only, so a read-only state directory
works) unless status.token is set: then pause, resume, retry-failed and requeue work with
"Authorization: Bearer <token>". On a non-loopback address the read routes need status.token or
status.read_token too.

Examples:
  docstokg serve --state-dir /var/lib/docstokg
  docstokg serve --listen 127.0.0.1:9000
  DOCSTOKG_DATABASE_URL_FILE=/etc/docstokg/credentials/DOCSTOKG_DATABASE_URL docstokg serve   # the fleet's page
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
    // Without a token nothing can be changed here, so nothing may write: SQLite is opened read-only.
    const controlled = ctx.config.status.token !== undefined;
    const state = await openCommandState(ctx.config, {
      readOnly: !controlled,
      existing: true,
      missing: "usage",
    });
    let status: Awaited<ReturnType<typeof serveStatus>>;
    try {
      status = await serveStatus(ctx.config, state);
    } catch (err) {
      await state.close();
      throw err;
    }
    let server: ReturnType<typeof startStatusServer>;
    try {
      server = startStatusServer(listen, status.app, {
        token: ctx.config.status.token ?? ctx.config.status.read_token,
      });
    } catch (err) {
      status.close();
      await state.close();
      if (err instanceof ListenError) throw new UsageError(`--listen: ${err.message}`);
      throw err;
    }
    const timer = setInterval(() => {
      status.sample().catch((err) => ctx.log.warn("throughput sample failed", err));
    }, SAMPLE_EVERY_MS);
    const mode = ctx.config.status.token ? "with controls" : "read-only";
    ctx.log.info(`status endpoint (${mode}) at ${server.url.href}`, {
      url: server.url.href,
      state: state.where,
    });
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    clearInterval(timer);
    await server.stop();
    status.close();
    await state.close();
    ctx.log.info(`stopped on ${signal}`);
  },
});
