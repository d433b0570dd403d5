// Runs one candidate download in its own process, so a test can kill it with SIGKILL mid-body.
// Usage: bun test/download/child-download.ts <outDir> <url> <artifactId>
import { downloadCandidate } from "../../src/download/candidate.ts";
import { makeDeps } from "./harness.ts";

const [outDir, url, artifactId] = process.argv.slice(2) as [string, string, string];
const r = await downloadCandidate(makeDeps(outDir), { url, artifactId });
console.log(JSON.stringify({ reason: r.reason }));
