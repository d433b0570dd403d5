// Compressed bodies for hostile-server tests, built without holding what they inflate to: a gzip
// bomb as concatenated gzip members of 1 MiB of zeros each (valid gzip, about 1 KiB per MiB), a
// brotli bomb streamed through the encoder a MiB at a time (about 1.5 KB for 1 GiB).
import {
  brotliCompressSync,
  constants,
  createBrotliCompress,
  deflateSync,
  gzipSync,
  zstdCompressSync,
} from "node:zlib";

const MiB = 1024 * 1024;

/** A body in `coding` that inflates to `prefix` then zeros, `mib` MiB in all. */
export async function makeBomb(
  coding: "gzip" | "br",
  mib: number,
  prefix = "%PDF-1.4\n",
): Promise<Uint8Array<ArrayBuffer>> {
  const first = new Uint8Array(MiB);
  first.set(new TextEncoder().encode(prefix));
  if (coding === "gzip") {
    const head = gzipSync(first, { level: 9 });
    const rest = gzipSync(new Uint8Array(MiB), { level: 9 });
    const out = new Uint8Array(head.length + rest.length * (mib - 1));
    out.set(head, 0);
    for (let i = 1; i < mib; i++) out.set(rest, head.length + (i - 1) * rest.length);
    return out;
  }
  const encoder = createBrotliCompress({
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 2,
      [constants.BROTLI_PARAM_LGWIN]: 24,
      [constants.BROTLI_PARAM_SIZE_HINT]: mib * MiB,
    },
  });
  const parts: Buffer[] = [];
  encoder.on("data", (d: Buffer) => parts.push(d));
  const ended = new Promise((resolve) => encoder.on("end", resolve));
  const zeros = new Uint8Array(MiB);
  for (let i = 0; i < mib; i++) {
    if (!encoder.write(i === 0 ? first : zeros)) await new Promise((r) => encoder.once("drain", r));
  }
  encoder.end();
  await ended;
  return new Uint8Array(Buffer.concat(parts));
}

/** `bytes` compressed in `coding`, as a server that ignores `Accept-Encoding: identity` sends them. */
export function encodeAs(
  coding: "gzip" | "br" | "deflate" | "zstd",
  bytes: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const out =
    coding === "gzip"
      ? gzipSync(bytes)
      : coding === "br"
        ? brotliCompressSync(bytes)
        : coding === "deflate"
          ? deflateSync(bytes)
          : zstdCompressSync(bytes);
  return new Uint8Array(out);
}
