// The simulated scholarly web: loopback HTTP/1.1 servers, each on its own 127.0.0.x address (a
// distinct host), serving landing pages, PDFs and robots.txt with switchable faults per route, and
// recording every request's arrival time and the concurrency at arrival so tests can assert
// politeness. The HTTP layer is written on raw sockets (node:net) because the faults need control a
// framework hides: a Content-Length that lies, a reset mid-body, a slow drip, a stall.
//
// Usage:
//   await using web = await startWeb();
//   const pub = await web.host({ name: "pub.test" });
//   pub.pdf("/a.pdf", makePdf("A"));
//   pub.fault("/a.pdf", { kind: "status", status: 429, headers: { "retry-after": "2" }, times: 1 });
//   fetch(pub.url("/a.pdf"))            // http://127.0.0.N:PORT/a.pdf
//   web.lookup("pub.test")              // ["127.0.0.N"]: inject into the client to use names
// Later files add API hosts (Unpaywall, Crossref, …) with `host.route(path, handler)`.
import { createServer, type Server, type Socket } from "node:net";
import { gzipSync } from "node:zlib";
import { captchaPage, interstitialPage, type LandingOptions, landingPage } from "./html.ts";
import { makePdf, utf8 } from "./pdf.ts";

export interface RouteContext {
  host: SimHost;
  /** 1-based count of requests this route has received (faults with `times` included). */
  hit: number;
}
export type Handler = (req: Request, ctx: RouteContext) => Response | Promise<Response>;

/** A fault applies to the next `times` requests of a route (default: until cleared). */
export type Fault = { times?: number } & (
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string }
  /** Send headers and `afterBytes` of the body, then reset the connection (RST). */
  | { kind: "reset"; afterBytes: number }
  /** Send `afterBytes` of the body, then close cleanly although Content-Length promised more. */
  | { kind: "truncate"; afterBytes: number }
  /** Send the body `chunkBytes` at a time with a pause between chunks. */
  | { kind: "drip"; chunkBytes: number; intervalMs: number }
  /** Send headers and `afterBytes`, then nothing until the client gives up. */
  | { kind: "stall"; afterBytes: number }
  /** Wait before sending the response headers. */
  | { kind: "delay"; ms: number }
  /** Never answer (header timeout). */
  | { kind: "hang" }
);

export interface RequestRecord {
  /** Arrival time, `performance.now()` milliseconds. */
  at: number;
  method: string;
  /** Path and query as sent. */
  path: string;
  headers: Headers;
  /** Requests in flight at this host when this one arrived, itself included. */
  concurrency: number;
  /** The status of a `status` fault that answered it (undefined: answered by its route). */
  faultStatus?: number;
}

interface Route {
  handler: Handler;
  hits: number;
}

interface ActiveFault {
  fault: Fault;
  left: number;
}

export class SimHost {
  readonly requests: RequestRecord[] = [];
  private readonly routes = new Map<string, Route>();
  private readonly faults = new Map<string, ActiveFault>();
  private inFlight = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly address: string,
    readonly port: number,
    readonly name: string,
    private readonly server: Server,
  ) {}

  /** Start a host listening on `address` (a free port is chosen). */
  static async listen(address: string, name: string): Promise<SimHost> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, address, () => resolve());
    });
    const port = (server.address() as { port: number }).port;
    const host = new SimHost(address, port, name, server);
    server.on("connection", (socket) => host.accept(socket));
    return host;
  }

  /** `http://127.0.0.N:PORT`: connectable without any DNS. */
  get origin(): string {
    return `http://${this.address}:${this.port}`;
  }

  /** `http://<name>:PORT`: needs the web's `lookup` injected into the client. */
  get namedOrigin(): string {
    return `http://${this.name}:${this.port}`;
  }

  url(path: string): string {
    return this.origin + path;
  }

  namedUrl(path: string): string {
    return this.namedOrigin + path;
  }

  /** Serve `path` (path plus optional query; without a query any query matches) with `handler`. */
  route(path: string, handler: Handler): this {
    this.routes.set(path, { handler, hits: 0 });
    return this;
  }

  pdf(
    path: string,
    bytes: Uint8Array<ArrayBuffer> = makePdf(path),
    headers: Record<string, string> = {},
  ): this {
    return this.route(path, () => bytesResponse(bytes, { "content-type": "application/pdf", ...headers }));
  }

  html(path: string, html: string, status = 200, headers: Record<string, string> = {}): this {
    return this.route(path, () =>
      bytesResponse(utf8(html), { "content-type": "text/html; charset=utf-8", ...headers }, status),
    );
  }

  landing(path: string, o: LandingOptions): this {
    return this.html(path, landingPage(o));
  }

  /** An HTML challenge page (status 403 like most CDNs, or 200). */
  captcha(path: string, status = 403): this {
    return this.html(path, captchaPage(), status);
  }

  /** A cookie interstitial labelled `application/pdf`. */
  interstitial(path: string, next: string): this {
    return this.route(path, () =>
      bytesResponse(utf8(interstitialPage(next)), { "content-type": "application/pdf" }),
    );
  }

  redirect(path: string, location: string, status = 302): this {
    return this.route(
      path,
      () => new Response(null, { status, headers: { location, "content-length": "0" } }),
    );
  }

  robots(text: string, status = 200): this {
    return this.route("/robots.txt", () =>
      bytesResponse(utf8(text), { "content-type": "text/plain" }, status),
    );
  }

  /** A body of `bytes` bytes generated lazily (constant memory on both sides). */
  huge(path: string, bytes: number, contentType = "application/pdf"): this {
    return this.route(path, () => {
      const chunk = new Uint8Array(64 * 1024).fill(0x41);
      chunk.set(utf8("%PDF-1.4\n"));
      let left = bytes;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (left <= 0) return c.close();
          const n = Math.min(left, chunk.length);
          c.enqueue(n === chunk.length ? chunk : chunk.subarray(0, n));
          left -= n;
        },
      });
      return new Response(body, {
        headers: { "content-type": contentType, "content-length": String(bytes) },
      });
    });
  }

  /** A gzip body that inflates to `prefix` then zeros, `inflatedBytes` in all (labelled application/pdf). */
  gzipBomb(path: string, inflatedBytes: number, prefix = ""): this {
    const inflated = new Uint8Array(inflatedBytes);
    inflated.set(utf8(prefix));
    const packed = new Uint8Array(gzipSync(inflated, { level: 9 }));
    return this.route(path, () =>
      bytesResponse(packed, { "content-type": "application/pdf", "content-encoding": "gzip" }),
    );
  }

  /** Switch a fault on for `path` (or `*`: every route), or off with `undefined`. */
  fault(path: string, fault: Fault | undefined): this {
    if (fault) this.faults.set(path, { fault, left: fault.times ?? Number.POSITIVE_INFINITY });
    else this.faults.delete(path);
    return this;
  }

  /** Requests whose path (without query) is `path`; `*`: every request, in arrival order. */
  hits(path: string): RequestRecord[] {
    if (path === "*") return [...this.requests];
    return this.requests.filter((r) => r.path.split("?")[0] === path);
  }

  /** The largest concurrency seen at any arrival. */
  maxConcurrency(): number {
    return this.requests.reduce((m, r) => Math.max(m, r.concurrency), 0);
  }

  /** The shortest gap between two consecutive arrivals (Infinity with fewer than two). */
  minIntervalMs(filter: (r: RequestRecord) => boolean = () => true): number {
    const at = this.requests.filter(filter).map((r) => r.at);
    let min = Number.POSITIVE_INFINITY;
    for (let i = 1; i < at.length; i++) min = Math.min(min, (at[i] as number) - (at[i - 1] as number));
    return min;
  }

  /** The most arrivals inside any window of `windowMs` (for `burst + rate × t` assertions). */
  maxInWindow(windowMs: number, filter: (r: RequestRecord) => boolean = () => true): number {
    const at = this.requests.filter(filter).map((r) => r.at);
    let best = 0;
    let lo = 0;
    for (let hi = 0; hi < at.length; hi++) {
      while ((at[hi] as number) - (at[lo] as number) >= windowMs) lo++;
      best = Math.max(best, hi - lo + 1);
    }
    return best;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => {}); // a client that goes away is part of the game
    let buffered: Buffer = Buffer.alloc(0);
    let busy = false;
    const pump = async () => {
      if (busy) return;
      busy = true;
      try {
        for (;;) {
          const parsed = parseRequest(buffered);
          if (!parsed) break;
          buffered = buffered.subarray(parsed.consumed);
          const keepAlive = await this.serve(socket, parsed);
          if (!keepAlive || socket.destroyed) {
            if (!socket.destroyed) socket.end();
            return;
          }
        }
      } finally {
        busy = false;
      }
    };
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      void pump();
    });
  }

  /** Answer one request; resolves whether the connection may carry another. */
  private async serve(socket: Socket, p: ParsedRequest): Promise<boolean> {
    const pathOnly = p.target.split("?")[0] ?? "/";
    const record: RequestRecord = {
      at: performance.now(),
      method: p.method,
      path: p.target,
      headers: p.headers,
      concurrency: ++this.inFlight,
    };
    this.requests.push(record);
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        this.inFlight--;
      }
    };
    socket.once("close", finish);
    try {
      const route = this.routes.get(p.target) ?? this.routes.get(pathOnly);
      if (route) route.hits++;
      const fault = this.takeFault(pathOnly);
      if (fault?.kind === "hang") {
        await new Promise((resolve) => socket.once("close", resolve));
        return false;
      }
      if (fault?.kind === "delay") await Bun.sleep(fault.ms);
      let res: Response;
      if (fault?.kind === "status") {
        record.faultStatus = fault.status;
        res = bytesResponse(
          utf8(fault.body ?? `status ${fault.status}\n`),
          fault.headers ?? {},
          fault.status,
        );
      } else if (route) {
        const req = new Request(`http://${p.headers.get("host") ?? this.address}${p.target}`, {
          method: p.method,
          headers: p.headers,
          body: p.body.length > 0 ? p.body : undefined,
        });
        res = await route.handler(req, { host: this, hit: route.hits });
      } else {
        res = bytesResponse(utf8("not found\n"), { "content-type": "text/plain" }, 404);
      }
      const wantsClose = p.headers.get("connection")?.toLowerCase() === "close";
      return (await writeResponse(socket, res, p.method, fault)) && !wantsClose;
    } catch {
      socket.destroy();
      return false;
    } finally {
      socket.off("close", finish);
      finish();
    }
  }

  private takeFault(path: string): Fault | undefined {
    for (const key of [path, "*"]) {
      const active = this.faults.get(key);
      if (!active) continue;
      active.left--;
      if (active.left <= 0) this.faults.delete(key);
      return active.fault;
    }
    return undefined;
  }
}

export interface SimWeb {
  /** Start another host on the next loopback address; `name` is what `lookup` resolves. */
  host(o?: { name?: string }): Promise<SimHost>;
  /** DNS for the simulated names: inject into the HTTP client (never falls through to real DNS). */
  lookup(hostname: string): Promise<string[]>;
  readonly hosts: SimHost[];
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Start an empty simulated web. Stop it at test end (`await using`, or `afterAll(() => web.stop())`). */
export async function startWeb(): Promise<SimWeb> {
  const hosts: SimHost[] = [];
  const names = new Map<string, string>();
  let next = 2;
  const stop = async () => {
    await Promise.all(hosts.map((h) => h.stop()));
    hosts.length = 0;
  };
  return {
    hosts,
    async host(o = {}) {
      const address = `127.0.0.${next++}`;
      if (next > 254) next = 2;
      const name = o.name ?? `host${hosts.length + 1}.test`;
      const h = await SimHost.listen(address, name);
      hosts.push(h);
      names.set(name.toLowerCase(), address);
      return h;
    },
    async lookup(hostname) {
      const address = names.get(hostname.toLowerCase());
      if (!address)
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
      return [address];
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A response whose Content-Length is the byte length of `bytes`. */
export function bytesResponse(
  bytes: Uint8Array<ArrayBuffer>,
  headers: Record<string, string> = {},
  status = 200,
): Response {
  return new Response(bytes, { status, headers: { "content-length": String(bytes.length), ...headers } });
}

interface ParsedRequest {
  method: string;
  target: string;
  headers: Headers;
  body: Uint8Array<ArrayBuffer>;
  consumed: number;
}

function parseRequest(buf: Buffer): ParsedRequest | undefined {
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
  const [method = "GET", target = "/"] = (lines[0] ?? "").split(" ");
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const length = Number(headers.get("content-length") ?? 0);
  if (buf.length < end + 4 + length) return undefined;
  const body = new Uint8Array(buf.subarray(end + 4, end + 4 + length));
  return { method, target, headers, body, consumed: end + 4 + length };
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  410: "Gone",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** Write `res` with the fault applied; resolves whether the connection is still usable. */
async function writeResponse(socket: Socket, res: Response, method: string, fault?: Fault): Promise<boolean> {
  const head = [`HTTP/1.1 ${res.status} ${STATUS_TEXT[res.status] ?? "Status"}`];
  const declared = res.headers.get("content-length");
  const noBody = method === "HEAD" || res.status === 204 || res.status === 304;
  const chunked = !noBody && declared === null;
  res.headers.forEach((value, key) => {
    if (key !== "transfer-encoding" && key !== "connection") head.push(`${key}: ${value}`);
  });
  if (chunked) head.push("transfer-encoding: chunked");
  head.push(`date: ${new Date().toUTCString()}`);
  if (!(await write(socket, Buffer.from(`${head.join("\r\n")}\r\n\r\n`, "latin1")))) return false;
  if (noBody || !res.body) {
    await res.body?.cancel();
    return true;
  }
  let sent = 0;
  const limit =
    fault?.kind === "reset" || fault?.kind === "truncate" || fault?.kind === "stall"
      ? fault.afterBytes
      : Number.POSITIVE_INFINITY;
  const piece = fault?.kind === "drip" ? fault.chunkBytes : Number.POSITIVE_INFINITY;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let offset = 0;
      while (offset < value.length) {
        const n = Math.min(value.length - offset, piece, limit - sent);
        if (n <= 0) return await breakConnection(socket, fault);
        const part = value.subarray(offset, offset + n);
        const framed = chunked
          ? Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), part, Buffer.from("\r\n")])
          : part;
        if (!(await write(socket, framed))) return false;
        sent += n;
        offset += n;
        if (fault?.kind === "drip") await Bun.sleep(fault.intervalMs);
      }
    }
    if (sent >= limit) return await breakConnection(socket, fault);
    if (chunked && !(await write(socket, Buffer.from("0\r\n\r\n")))) return false;
    return true;
  } finally {
    reader.cancel().catch(() => {});
  }
}

async function breakConnection(socket: Socket, fault?: Fault): Promise<false> {
  if (fault?.kind === "reset") socket.resetAndDestroy();
  else if (fault?.kind === "truncate") socket.end();
  else if (fault?.kind === "stall") await new Promise((resolve) => socket.once("close", resolve));
  return false;
}

function write(socket: Socket, data: Uint8Array): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const ok = socket.write(data);
    if (ok) return resolve(true);
    const onDrain = () => {
      socket.off("close", onClose);
      resolve(true);
    };
    const onClose = () => {
      socket.off("drain", onDrain);
      resolve(false);
    };
    socket.once("drain", onDrain);
    socket.once("close", onClose);
  });
}
