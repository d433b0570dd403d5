// A raw HTTP/1.1 request over a socket, for tests that must send headers a fetch client rewrites
// (a forged Host, as a DNS-rebinding page would send).
import { connect } from "node:net";

/** One HTTP/1.1 GET over a raw socket, so the Host header says exactly what a rebinding page would send. */
export async function rawGet(
  url: URL,
  path: string,
  host: string | null,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) });
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => {
      data += chunk;
    });
    socket.on("error", reject);
    socket.on("end", () => {
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf("\r\n\r\n") + 4) });
    });
    const hostLine = host === null ? "" : `Host: ${host}\r\n`;
    socket.write(`GET ${path} HTTP/1.1\r\n${hostLine}Connection: close\r\n\r\n`);
  });
}
