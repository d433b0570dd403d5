// One trace per leased job: a `job` root span from the lease call to the commit, with the `lease`
// span as its first child; the step hangs its tier, resolver and download spans below the root.
// What the commit did (state, reason, bytes) is set on the root as it ends.
import type { LeasedJob } from "../store/types.ts";
import type { Attributes, Span, Tracer } from "../telemetry/tracing.ts";
import type { JobOutcome } from "./worker.ts";

/** The root span of a job just leased; the lease call ran from `from` to `to` (tracer clock). */
export function startJobTrace(
  tracer: Tracer,
  job: LeasedJob,
  lease: { owner: string; from: number; to: number; batch: number },
): Span {
  const root = tracer.startSpan("job", {
    startTime: lease.from,
    attributes: {
      "job.id": job.id,
      "artifact.id": job.artifactId,
      attempt: job.attempts + 1,
      runner: lease.owner,
    },
  });
  tracer
    .startSpan("lease", { parent: root, startTime: lease.from, attributes: { batch: lease.batch } })
    .end(lease.to);
  return root;
}

/** What the root span records about how the job's work ended, and whether that is an error. */
export function outcomeAttributes(o: JobOutcome): { attributes: Attributes; error?: string } {
  const bytes = o.step?.bytes;
  const c = o.commit;
  if (!o.committed) return { attributes: { outcome: "lease_lost", bytes }, error: "lease_lost" };
  switch (c.kind) {
    case "ack":
      return { attributes: { outcome: "ack", state: c.outcome.state, reason: c.outcome.reason, bytes } };
    case "fail": {
      const state = o.failed?.state ?? "queued";
      return {
        attributes: {
          outcome: "fail",
          state,
          reason: c.failure.reason,
          transient: c.failure.transient,
          bytes,
        },
        error: c.failure.reason,
      };
    }
    case "release":
      return { attributes: { outcome: "release", state: "queued", reason: o.step?.reason, bytes } };
    case "abandon":
      return { attributes: { outcome: "abandon", bytes }, error: "lease_lost" };
  }
}

/** Ends a job's root span (once), with attributes and an error status if any. */
export function endJobTrace(span: Span | undefined, attributes: Attributes, error?: string): void {
  if (!span) return;
  span.set(attributes);
  if (error) span.fail(error);
  span.end();
}
