// A route handler for the simulated web that behaves like a static file server: ETag and
// Last-Modified, conditional GET (304), and single byte ranges with If-Range (206/200/416).
import type { Handler } from "../support/web.ts";

export interface RangedFile {
  bytes: Uint8Array<ArrayBuffer>;
  etag?: string;
  lastModified?: string;
  /** Answer Range requests (off: always the whole file with 200). */
  ranges?: boolean;
  contentType?: string;
}

export function rangedFile(f: RangedFile): Handler {
  return (req) => {
    const headers: Record<string, string> = { "content-type": f.contentType ?? "application/pdf" };
    if (f.etag) headers.etag = f.etag;
    if (f.lastModified) headers["last-modified"] = f.lastModified;
    if (f.ranges !== false) headers["accept-ranges"] = "bytes";
    const inm = req.headers.get("if-none-match");
    const ims = req.headers.get("if-modified-since");
    if ((inm && f.etag && inm === f.etag) || (!inm && ims && f.lastModified && ims === f.lastModified)) {
      return new Response(null, { status: 304, headers });
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.get("range") ?? "");
    const ifRange = req.headers.get("if-range");
    const validatorOk = !ifRange || ifRange === f.etag || ifRange === f.lastModified;
    if (range && f.ranges !== false && validatorOk) {
      const start = Number(range[1]);
      if (start >= f.bytes.length) {
        return new Response(null, {
          status: 416,
          headers: { "content-range": `bytes */${f.bytes.length}`, "content-length": "0" },
        });
      }
      const part = f.bytes.slice(start);
      return new Response(part, {
        status: 206,
        headers: {
          ...headers,
          "content-length": String(part.length),
          "content-range": `bytes ${start}-${f.bytes.length - 1}/${f.bytes.length}`,
        },
      });
    }
    return new Response(f.bytes, { headers: { ...headers, "content-length": String(f.bytes.length) } });
  };
}
