// A real S3 server for tests: s3rver (the S3 REST API over a temp directory) on 127.0.0.1, run in
// this process, with its bucket created; and a fault proxy in front of it that answers 503 SlowDown,
// resets a connection in the middle of an upload, or plays a store that is down. The proxy forwards
// requests byte for byte with their own Host header, so signatures still verify. It also holds
// multipart uploads to AWS's rule, which s3rver does not check: completing an upload whose parts
// other than the last are below 5 MiB is answered 400 EntityTooSmall.
import { mkdtempSync, rmSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

/** s3rver's fixed credentials. */
export const S3_KEY = "S3RVER";
export const S3_SECRET = "S3RVER";

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** A client of the real server (reads and overwrites objects behind the program's back). */
  client: Bun.S3Client;
  stop(): Promise<void>;
}

export async function startS3(bucket = "library"): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), "docstokg-s3-"));
  const server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const info = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${info.port}`;
  return {
    endpoint,
    bucket,
    client: new Bun.S3Client({
      accessKeyId: S3_KEY,
      secretAccessKey: S3_SECRET,
      bucket,
      endpoint,
      region: "us-east-1",
    }),
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export interface FaultProxy {
  endpoint: string;
  /** The next `n` requests are answered 503 SlowDown. */
  slowDown(n: number): void;
  /** The next `n` uploads (PUT with a body of at least 64 KiB) lose their connection mid-body. */
  resetUploads(n: number): void;
  /** While down, every request is answered 503 ServiceUnavailable. */
  setDown(down: boolean): void;
  /** Requests seen, with what the proxy did to each. */
  log: { method: string; path: string; fault: string | null }[];
  /** Every UploadPart forwarded (a retried part appears again), in arrival order. */
  parts: { uploadId: string; partNumber: number; bytes: number }[];
  /** The most UploadPart requests forwarded and not yet answered at one time. */
  maxPartsInFlight: number;
  /** Completions refused because a part other than the last was below 5 MiB. */
  tooSmall: { uploadId: string; sizes: number[] }[];
  stop(): Promise<void>;
}

const s3Error = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;

/** AWS's smallest part, except the last of an upload. */
export const MIN_PART = 5 * 1024 * 1024;

/** The sizes of an upload's parts in part-number order, each part's last forwarded try. */
function partSizes(parts: FaultProxy["parts"], uploadId: string): number[] {
  const byNumber = new Map<number, number>();
  for (const p of parts) if (p.uploadId === uploadId) byNumber.set(p.partNumber, p.bytes);
  return [...byNumber.entries()].sort((a, b) => a[0] - b[0]).map(([, bytes]) => bytes);
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const up = new URL(target);
  let slowDowns = 0;
  let resets = 0;
  let down = false;
  const log: FaultProxy["log"] = [];
  const parts: FaultProxy["parts"] = [];
  const tooSmall: FaultProxy["tooSmall"] = [];
  let partsInFlight = 0;
  let maxPartsInFlight = 0;
  const server = http.createServer((req, res) => {
    const entry = { method: req.method ?? "", path: req.url ?? "", fault: null as string | null };
    log.push(entry);
    const refuse = (code: string, message: string) => {
      req.resume();
      res.writeHead(503, { "content-type": "application/xml", connection: "close" });
      res.end(s3Error(code, message));
    };
    if (down) {
      entry.fault = "down";
      return refuse("ServiceUnavailable", "Service is unable to handle request.");
    }
    if (slowDowns > 0) {
      slowDowns--;
      entry.fault = "slowdown";
      return refuse("SlowDown", "Please reduce your request rate.");
    }
    const length = Number(req.headers["content-length"] ?? 0);
    if (resets > 0 && req.method === "PUT" && length >= 64 * 1024) {
      resets--;
      entry.fault = "reset";
      let seen = 0;
      req.on("data", (chunk: Buffer) => {
        seen += chunk.length;
        if (seen >= length / 2) req.socket.destroy();
      });
      return;
    }
    const query = new URL(req.url ?? "/", "http://proxy").searchParams;
    const uploadId = query.get("uploadId");
    const isPart = uploadId !== null && req.method === "PUT" && query.has("partNumber");
    if (isPart) {
      parts.push({ uploadId, partNumber: Number(query.get("partNumber")), bytes: length });
      maxPartsInFlight = Math.max(maxPartsInFlight, ++partsInFlight);
      res.once("close", () => partsInFlight--);
    }
    if (uploadId !== null && req.method === "POST") {
      const sizes = partSizes(parts, uploadId);
      if (sizes.slice(0, -1).some((b) => b < MIN_PART)) {
        tooSmall.push({ uploadId, sizes });
        entry.fault = "too-small";
        req.resume();
        res.writeHead(400, { "content-type": "application/xml" });
        return res.end(
          s3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"),
        );
      }
    }
    const fwd = http.request(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    fwd.on("error", () => res.destroy());
    req.pipe(fwd);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    slowDown: (n) => {
      slowDowns = n;
    },
    resetUploads: (n) => {
      resets = n;
    },
    setDown: (d) => {
      down = d;
    },
    log,
    parts,
    tooSmall,
    get maxPartsInFlight() {
      return maxPartsInFlight;
    },
    set maxPartsInFlight(n: number) {
      maxPartsInFlight = n;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
