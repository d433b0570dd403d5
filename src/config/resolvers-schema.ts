// The `resolvers` section of the configuration schema: the tier plan and one entry per resolver
// (base URL, concurrency, daily quota, and each resolver's own keys).
import * as v from "valibot";
import { bool, int, secret, url } from "./fields.ts";

export const RESOLVER_NAMES = [
  "direct",
  "unpaywall",
  "crossref",
  "europepmc",
  "pmc",
  "semantic_scholar",
  "doaj",
  "openalex",
  "core",
  "zenodo",
  "figshare",
  "hal",
  "osf",
  "openaire",
  "doi",
  "landing",
  "wayback",
] as const;
export type ResolverName = (typeof RESOLVER_NAMES)[number];

export const PREFER_VERSIONS = ["any", "published", "accepted", "submitted"] as const;
export type PreferVersion = (typeof PREFER_VERSIONS)[number];

// Generic over `extra` so keys such as `api_key` stay in the inferred Config type.
// biome-ignore lint/complexity/noBannedTypes: `{}` is the empty set of extra entries
const resolver = <E extends v.ObjectEntries = {}>(
  baseUrl: string,
  extra: E = {} as E,
  defaults: {
    /** Off by default (HAL, OSF and OpenAIRE, as the reference had them). */
    enabled?: boolean;
    /** Default of `daily_limit` (Unpaywall asks for at most 100,000 calls a day). */
    dailyLimit?: number;
  } = {},
) => {
  const { enabled = true, dailyLimit } = defaults;
  const entries = v.strictObject({
    enabled: bool(enabled, "Ask this resolver at all."),
    base_url: url(baseUrl, "Base URL of the service (mirrors and test servers can stand in)."),
    max_concurrent: int(4, "Requests this resolver may have in flight at once."),
    daily_limit: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(1),
        v.description(
          "Requests this resolver may make per UTC day, counted across every process on the state database (unset: no limit).",
        ),
      ),
      dailyLimit,
    ),
    when_exhausted: v.optional(
      v.pipe(
        v.picklist(["wait", "skip"]),
        v.description(
          "When the day's quota is spent: `wait` releases a job that needs this resolver until the quota resets (no attempt counted); `skip` goes on without it.",
        ),
      ),
      "wait",
    ),
    ...extra,
  });
  return v.optional(entries, {} as v.InferInput<typeof entries>);
};

export const ResolversSchema = v.optional(
  v.strictObject({
    tiers: v.optional(
      v.pipe(
        v.array(v.array(v.picklist(RESOLVER_NAMES))),
        v.description("Resolver tiers in the order they are tried; resolvers in a tier run in parallel."),
      ),
      [
        ["direct"],
        ["unpaywall", "crossref", "europepmc", "pmc", "semantic_scholar", "doaj", "openalex"],
        ["core", "zenodo", "figshare", "hal", "osf", "openaire"],
        ["doi", "landing"],
        ["wayback"],
      ],
    ),
    prefer_version: v.optional(
      v.pipe(
        v.picklist(PREFER_VERSIONS),
        v.description(
          "Version tried first: with published, accepted or submitted a tier's candidates wait until every resolver of the tier has answered, then go in version order (the preferred one, then published, accepted, submitted, then unknown).",
        ),
      ),
      "any",
    ),
    candidate_concurrency: int(
      2,
      "Candidates of one job downloaded at once (the first valid file aborts the others).",
    ),
    direct: resolver("https://arxiv.org", {
      europepmc_base_url: url(
        "https://europepmc.org",
        "Base URL of Europe PMC article renders (PMCID → PDF).",
      ),
      pmc_base_url: url("https://pmc.ncbi.nlm.nih.gov", "Base URL of PMC article pages (PMCID → PDF)."),
    }),
    unpaywall: resolver("https://api.unpaywall.org", {}, { dailyLimit: 100_000 }),
    crossref: resolver("https://api.crossref.org"),
    europepmc: resolver("https://www.ebi.ac.uk/europepmc/webservices/rest"),
    pmc: resolver("https://pmc.ncbi.nlm.nih.gov/tools/idconv/api/v1/articles/", {
      api_key: secret("NCBI API key (raises the NCBI rate to 10/s)."),
    }),
    semantic_scholar: resolver("https://api.semanticscholar.org/graph/v1", {
      api_key: secret("Semantic Scholar API key (env S2_API_KEY)."),
    }),
    doaj: resolver("https://doaj.org/api"),
    openalex: resolver("https://api.openalex.org", {
      api_key: secret("OpenAlex API key (env OPENALEX_API_KEY); the resolver is off without it."),
      max_cost_usd: v.optional(
        v.pipe(
          v.number(),
          v.minValue(0),
          v.description(
            "Most one `openalex import` pull may spend in USD over all its runs; it stops before the page that would pass it (unset: no cap).",
          ),
        ),
      ),
    }),
    core: resolver("https://api.core.ac.uk/v3", {
      api_key: secret("CORE API key (env CORE_API_KEY); the resolver is off without it."),
    }),
    zenodo: resolver("https://zenodo.org/api"),
    figshare: resolver("https://api.figshare.com/v2"),
    // Off by default, as the reference had them.
    hal: resolver("https://api.archives-ouvertes.fr", {}, { enabled: false }),
    osf: resolver("https://api.osf.io/v2", {}, { enabled: false }),
    openaire: resolver("https://api.openaire.eu", {}, { enabled: false }),
    doi: resolver("https://doi.org"),
    landing: resolver("https://example.invalid", {
      max_page_bytes: int(
        2 * 1024 * 1024,
        "Largest landing page read when scraping for PDF links, in bytes.",
      ),
      max_links: int(4, "PDF links taken from one landing page."),
    }),
    wayback: resolver("https://archive.org", {
      capture_base_url: url("https://web.archive.org", "Base URL of Wayback captures."),
      max_lookups: int(6, "Failed candidate and landing URLs looked up in the archive per job."),
    }),
  }),
  {},
);
