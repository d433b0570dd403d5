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
  /** From `resolvers.core.api_key` (config/env.ts fills it from CORE_API_KEY). */
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

/**
 * The settings resolvers read, from the configuration alone: config/env.ts already mapped the
 * documented credential variables (UNPAYWALL_EMAIL, S2_API_KEY, …) onto their keys. Never logged.
 */
export function resolverSettings(config: Pick<Config, "resolvers" | "contact_email">): ResolverSettings {
  const r = config.resolvers;
  return {
    resolvers: r,
    email: config.contact_email,
    s2ApiKey: r.semantic_scholar.api_key,
    openalexApiKey: r.openalex.api_key,
    ncbiApiKey: r.pmc.api_key,
    coreApiKey: r.core.api_key,
  };
}
