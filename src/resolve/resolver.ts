// The shape every resolver module exports, and the settings (base URLs, credentials) they read.
// A resolver is pure: it builds the request it needs and maps the answer to candidates; asking
// the network is the plan's job, so each mapping is testable against recorded responses.
import type { Config, ResolverName } from "../config/schema.ts";
import type { CandidateSeed, ResolvableWork, ResolverMapping, ResolverRequest } from "./types.ts";

export interface ResolverSettings {
  resolvers: Config["resolvers"];
  /** Contact email (Unpaywall needs it; Crossref mailto, NCBI email). */
  email?: string;
  s2ApiKey?: string;
  openalexApiKey?: string;
  ncbiApiKey?: string;
  /** From `resolvers.core.api_key`, which config/env.ts fills from CORE_API_KEY. */
  coreApiKey?: string;
}

/** Why a resolver does not run for this work (missing identifier, missing credential). */
export interface Skip {
  skip: string;
}

/** A resolver that asks a metadata API once per work. */
export interface ApiResolver {
  name: ResolverName;
  kind: "api";
  request(work: ResolvableWork, settings: ResolverSettings): ResolverRequest | Skip;
  map(body: unknown, work: ResolvableWork): ResolverMapping;
}

/** A resolver whose candidates follow from the work itself (no request of its own). */
export interface StaticResolver {
  name: ResolverName;
  kind: "static";
  seeds(work: ResolvableWork, settings: ResolverSettings): CandidateSeed[];
}

export type Resolver = ApiResolver | StaticResolver;

export const isSkip = (x: ResolverRequest | Skip): x is Skip => "skip" in x;

/** Credentials from config first, then the documented environment variables (never logged). */
export function resolverSettings(
  config: Config,
  env: Record<string, string | undefined> = {},
): ResolverSettings {
  const r = config.resolvers;
  return {
    resolvers: r,
    email: config.contact_email ?? env.DOCSTOKG_CONTACT_EMAIL ?? env.UNPAYWALL_EMAIL,
    s2ApiKey: r.semantic_scholar.api_key ?? env.S2_API_KEY,
    openalexApiKey: r.openalex.api_key ?? env.OPENALEX_API_KEY,
    ncbiApiKey: r.pmc.api_key ?? env.NCBI_API_KEY,
    coreApiKey: r.core.api_key,
  };
}
