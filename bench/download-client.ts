// The HTTP client the download benchmark uses: the real client, loopback allowed, politeness
// limits out of the way (the benchmark measures the pipeline, not the rate limiter).
import { defaultConfig } from "../src/config/schema.ts";
import { createHttpClient } from "../src/net/fetch.ts";
import type { HttpClient } from "../src/net/types.ts";
import { MemoryPoliteness } from "../test/support/politeness.ts";

export function makeBenchClient(maxBytes: number): HttpClient {
  const config = defaultConfig();
  config.network.allow_private = ["127.0.0.0/8"];
  config.politeness.robots = false;
  config.download.max_bytes = maxBytes;
  return createHttpClient({ config, politeness: new MemoryPoliteness(), version: "bench" });
}
