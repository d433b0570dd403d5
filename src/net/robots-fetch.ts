// Fetching `<origin>/robots.txt` for the robots cache (robots.ts): through the same hop as every
// request (gate, politeness on the landing budget, no robots check of its own), up to 5 redirects,
// at most ROBOTS_MAX_BYTES read.
import { readAtMost } from "./bytes.ts";
import type { Exchange, HopOptions } from "./hop.ts";
import { outcomeReason } from "./outcome.ts";
import type { RobotsFetch } from "./robots.ts";
import { ROBOTS_MAX_BYTES } from "./robots-parse.ts";

const ROBOTS_REDIRECTS = 5;

/** robots.txt of `origin` as the robots cache wants it: a status and body, or why none came. */
export async function fetchRobots(
  exchange: Exchange,
  origin: string,
  maxWaitMs: number,
  now: () => number,
): Promise<RobotsFetch> {
  const hop: HopOptions = {
    role: "landing",
    rateRole: "landing",
    checkRobots: false,
    maxRedirects: ROBOTS_REDIRECTS,
    maxWaitMs,
  };
  const r = await exchange({ url: `${origin}/robots.txt`, role: "landing" }, hop, now(), {
    accept: "text/plain, */*;q=0.5",
  });
  if (!r.ok) {
    if (r.status !== undefined) return { status: r.status, body: "" };
    return { failure: r.reason, message: `robots.txt of ${origin}: ${r.message}` };
  }
  try {
    const bytes = await readAtMost(r.response.body, ROBOTS_MAX_BYTES);
    return { status: r.response.status, body: bytes };
  } catch (error) {
    return {
      failure: outcomeReason({ error }),
      message: `robots.txt of ${origin}: ${(error as Error).message}`,
    };
  } finally {
    r.response.release();
  }
}
