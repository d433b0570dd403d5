// Byte helpers of the client: joining chunks and reading a body up to a bound (robots.txt), so a
// body is never held beyond what its reader asked for.

/** The chunks `parts` (of `size` bytes in all) as one array. */
export function concatBytes(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The first `max` bytes of `body` (all of it when shorter); the rest is cancelled, not read. */
export async function readAtMost(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const take = value.subarray(0, Math.max(0, max - size));
    parts.push(take);
    size += take.length;
    if (size >= max) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  return concatBytes(parts, size);
}
