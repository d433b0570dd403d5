// Reading the URL a served process announces in its JSON log (`docstokg serve`, `queue run`), for
// tests that start the binary on port 0 and need to know where it listens.

/** Reads the process's stderr until the line announcing the URL; returns the URL. */
export async function announcedUrl(
  stream: ReadableStream<Uint8Array>,
): Promise<{ url: string; rest: () => Promise<string> }> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited before announcing its URL:\n${text}`);
    text += decoder.decode(value, { stream: true });
    const m = /"url":"(http:\/\/[^"]+)"/.exec(text);
    if (m) {
      const url = m[1] as string;
      return {
        url,
        rest: async () => {
          for (;;) {
            const r = await reader.read();
            if (r.done) return text;
            text += decoder.decode(r.value, { stream: true });
          }
        },
      };
    }
  }
}
