// Bearer-token check for the mutating status routes. The comparison is constant-time (both sides
// are hashed first so neither the content nor the length leaks through timing).
import { createHash, timingSafeEqual } from "node:crypto";

export type AuthResult = "ok" | "no_token_configured" | "unauthorized";

export function checkBearer(header: string | undefined, token: string | undefined): AuthResult {
  if (!token) return "no_token_configured";
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  const given = m?.[1] ?? "";
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(token).digest();
  return timingSafeEqual(a, b) && given !== "" ? "ok" : "unauthorized";
}
