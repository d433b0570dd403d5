// Bounded reading of metadata and landing-page bodies: a hostile or broken server must not make
// resolution buffer an unbounded response, so reading stops (and the stream is cancelled) at a cap.
import type { HttpResponse } from "../net/types.ts";

export interface BoundedBody {
  bytes: Uint8Array;
  /** The body was longer than the cap and was cut there. */
  truncated: boolean;
}

export async function readBounded(res: HttpResponse, maxBytes: number): Promise<BoundedBody> {
  if (!res.body) return { bytes: new Uint8Array(0), truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.length > maxBytes) {
        chunks.push(value.subarray(0, maxBytes - size));
        size = maxBytes;
        truncated = true;
        await reader.cancel().catch(() => {});
        break;
      }
      chunks.push(value);
      size += value.length;
    }
  } finally {
    reader.releaseLock();
    res.release();
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.length;
  }
  return { bytes, truncated };
}

/** Release a response we do not read (frees the connection and the host slot). */
export async function discard(res: HttpResponse): Promise<void> {
  await res.body?.cancel().catch(() => {});
  res.release();
}
