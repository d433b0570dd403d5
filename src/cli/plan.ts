// `docstokg plan`: before a long run, what the queued jobs will ask of each source, how long that
// takes under the configured rates, concurrency and daily quotas, what OpenAlex will cost, and when
// it ends. Thin: read the forecast from src/forecast, print it.
import { defineCommand } from "citty";
import { forecastQueue } from "../forecast/demand.ts";
import type { RunForecast } from "../forecast/forecast.ts";
import { resolverSettings } from "../resolve/resolver.ts";
import { formatCount } from "../telemetry/format.ts";
import { table } from "../telemetry/report-text.ts";
import { createContext, globalArgs } from "./common.ts";
import { usd } from "./openalex-format.ts";
import { withState } from "./state-db.ts";

/** 90 → "1m 30s", 200000 → "2d 7h". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const parts: [number, string][] = [
    [Math.floor(s / 86400), "d"],
    [Math.floor((s % 86400) / 3600), "h"],
    [Math.floor((s % 3600) / 60), "m"],
    [s % 60, "s"],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return "0s";
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n}${u}`)
    .join(" ");
}

export function forecastText(f: RunForecast, now: number): string {
  const out = [
    `${formatCount(f.jobs)} jobs queued or in progress (upper bounds: every applicable source asked once per job)`,
  ];
  if (f.sources.length === 0) {
    out.push("nothing to ask of any source");
  } else {
    out.push(
      "",
      ...table(
        ["source", "host", "requests", "rate", "concurrency", "time", "daily limit", "quota days", "done by"],
        f.sources.map((s) => [
          s.source,
          s.host,
          formatCount(s.requests),
          `${s.rate_per_s}/s`,
          `${s.concurrency}${s.bound === "concurrency" ? " (bound)" : ""}`,
          duration(s.seconds),
          s.daily_limit === null ? "–" : formatCount(s.daily_limit),
          s.quota_days === null ? "–" : String(s.quota_days),
          s.eta.slice(0, 16).replace("T", " "),
        ]),
        3,
      ),
    );
  }
  out.push(
    "",
    `OpenAlex: lookups ${usd(f.openalex.lookups_usd)} (free by DOI), unfinished pulls about ${usd(f.openalex.pulls_usd)}; total ${usd(f.openalex.total_usd)}`,
  );
  if (f.eta)
    out.push(
      `ETA ${f.eta.slice(0, 16).replace("T", " ")} UTC (in ${duration((Date.parse(f.eta) - now) / 1000)}), set by ${f.eta_bound_by}`,
    );
  return `${out.join("\n")}\n`;
}

export const planCommand = defineCommand({
  meta: {
    name: "plan",
    description: `Before a long run: per source the requests the queued jobs may need (an upper bound), the time
they take under the configured rates and concurrency, the UTC days the daily quotas spread them over,
the estimated OpenAlex cost, and the ETA. Reads the state database; asks nothing of any source.

Examples:
  docstokg plan
  docstokg plan --json`,
  },
  args: { ...globalArgs, json: { type: "boolean", description: "Print JSON" } },
  async run({ args }) {
    const ctx = await createContext(args);
    await withState(ctx.config, { readOnly: true }, async (state) => {
      const now = Date.now();
      const f = await forecastQueue(state, ctx.config, resolverSettings(ctx.config), now);
      process.stdout.write(args.json ? `${JSON.stringify(f)}\n` : forecastText(f, now));
    });
  },
});
