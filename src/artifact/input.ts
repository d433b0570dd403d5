// One input line → one Artifact (SPEC 2.2). A line is an artifact JSON object, an OpenAlex work
// record or a bare identifier; `auto` decides per line. Failures are values carrying a reason that
// names what was wrong, for the import report and the rejects file.

import { redactUrl } from "../core/redact.ts";
import { type Artifact, normalizeArtifact, type Parsed } from "./artifact.ts";
import {
  normalizeArxiv,
  normalizeDoi,
  normalizeOpenalex,
  normalizePmcid,
  normalizePmid,
} from "./identifiers.ts";
import { artifactFromOpenAlex, isOpenAlexWork } from "./openalex.ts";
import { canonicalInputUrl, inputUrlProblem } from "./url.ts";

export const INPUT_FORMATS = ["auto", "artifact", "openalex", "ids"] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export function isInputFormat(x: string): x is InputFormat {
  return (INPUT_FORMATS as readonly string[]).includes(x);
}

function short(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/** A bare identifier: DOI, PMCID, PMID, arXiv id, OpenAlex id or an http(s) URL. */
export function artifactFromIdentifier(raw: string): Parsed<Artifact> {
  const text = raw.trim();
  const lower = text.toLowerCase();
  const fail = (expected: string): Parsed<Artifact> => ({
    ok: false,
    reason: `expected ${expected}, got ${short(text)}`,
  });
  if (lower.startsWith("10.") || lower.startsWith("doi:") || /^https?:\/\/(dx\.)?doi\.org\//.test(lower)) {
    const doi = normalizeDoi(text);
    return doi ? { ok: true, value: { id: `doi:${doi}`, doi } } : fail("a DOI like 10.1234/abc");
  }
  if (lower.startsWith("pmc")) {
    const pmcid = normalizePmcid(text);
    return pmcid ? { ok: true, value: { id: `pmcid:${pmcid}`, pmcid } } : fail("a PMCID like PMC123456");
  }
  if (lower.startsWith("pmid:")) {
    const pmid = normalizePmid(text);
    return pmid ? { ok: true, value: { id: `pmid:${pmid}`, pmid } } : fail("a PMID like pmid:12345");
  }
  if (lower.startsWith("arxiv:")) {
    const arxiv = normalizeArxiv(text);
    return arxiv
      ? { ok: true, value: { id: `arxiv:${arxiv}`, arxiv } }
      : fail("an arXiv id like arXiv:2101.00001");
  }
  if (lower.startsWith("openalex:")) {
    const openalex = normalizeOpenalex(text);
    return openalex
      ? { ok: true, value: { id: `openalex:${openalex}`, openalex } }
      : fail("an OpenAlex id like openalex:W123");
  }
  if (lower.startsWith("http://") || lower.startsWith("https://")) {
    const url = canonicalInputUrl(text);
    return url
      ? { ok: true, value: { id: `url:${redactUrl(url)}`, pdf_urls: [url] } }
      : { ok: false, reason: inputUrlProblem(text) };
  }
  if (/^\d+$/.test(text))
    return fail("an identifier with its kind (a bare number is ambiguous: write pmid:<n>)");
  return fail("a DOI, PMCID, pmid:<n>, arXiv:<id>, openalex:<W…> or http(s) URL");
}

/** Parse one non-blank, non-comment line in the given format. */
export function parseInputLine(line: string, format: InputFormat): Parsed<Artifact> {
  const text = line.trim();
  const looksJson = text.startsWith("{");
  if (format === "ids" || (format === "auto" && !looksJson)) {
    if (looksJson)
      return { ok: false, reason: "expected a bare identifier, got a JSON object (use --format auto)" };
    return artifactFromIdentifier(text);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not valid JSON" };
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    return { ok: false, reason: "expected a JSON object" };
  }
  const record = obj as Record<string, unknown>;
  const openalex = isOpenAlexWork(record);
  if (format === "openalex" && !openalex) {
    return { ok: false, reason: 'expected an OpenAlex work ("id": "https://openalex.org/W…")' };
  }
  if (openalex && format !== "artifact") return artifactFromOpenAlex(record);
  return normalizeArtifact(record);
}
