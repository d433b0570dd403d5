// The resolvers by name, so the plan can follow `resolvers.tiers` from configuration.
import type { ResolverName } from "../config/schema.ts";
import { core } from "./core.ts";
import { crossref } from "./crossref.ts";
import { direct } from "./direct.ts";
import { doaj } from "./doaj.ts";
import { doiResolver } from "./doi.ts";
import { europepmc } from "./europepmc.ts";
import { figshare } from "./figshare.ts";
import { hal } from "./hal.ts";
import { landing } from "./landing.ts";
import { openaire } from "./openaire.ts";
import { openalex } from "./openalex.ts";
import { osf } from "./osf.ts";
import { pmc } from "./pmc.ts";
import type { Resolver } from "./resolver.ts";
import { semanticScholar } from "./semantic-scholar.ts";
import { unpaywall } from "./unpaywall.ts";
import { zenodo } from "./zenodo.ts";

/** Every resolver but `wayback`, whose inputs are the job's failed URLs rather than the work. */
export const RESOLVERS: Record<Exclude<ResolverName, "wayback">, Resolver> = {
  direct,
  unpaywall,
  crossref,
  europepmc,
  pmc,
  semantic_scholar: semanticScholar,
  doaj,
  openalex,
  core,
  zenodo,
  figshare,
  hal,
  osf,
  openaire,
  doi: doiResolver,
  landing,
};
