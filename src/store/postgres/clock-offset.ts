// How far the database clock is ahead of this process's clock, estimated as NTP does from the
// statements that read it: a reading taken in a round trip of r ms tells the offset to within r / 2,
// so the estimate is the reading of the shortest round trip lately seen. A wait the database computed
// is then placed at its instant on this clock, whatever the statement's own trip took — a reservation
// that queued 30 ms for a connection no longer leaves 30 ms early, and servers whose clocks differ
// leave at the same database instant.

/** Extra error (ms) an old reading is charged per second of age: clocks drift and paths change. */
const AGE_PENALTY_MS_PER_S = 0.5;

interface Reading {
  offsetMs: number;
  rttMs: number;
  at: number;
}

export class ClockOffset {
  private best: Reading | undefined;

  /**
   * A statement sent at `sentAt` and answered at `answeredAt` (this clock) read `dbNow` on the
   * database clock; kept when its error bound beats the aged bound of the best reading so far.
   */
  sample(dbNow: number, sentAt: number, answeredAt: number): void {
    const rttMs = Math.max(0, answeredAt - sentAt);
    const reading = { offsetMs: dbNow - (sentAt + answeredAt) / 2, rttMs, at: answeredAt };
    const b = this.best;
    if (!b || rttMs <= b.rttMs + (Math.max(0, answeredAt - b.at) / 1000) * AGE_PENALTY_MS_PER_S)
      this.best = reading;
  }

  /** The instant on this clock of the database instant `dbAt` (unchanged before the first reading). */
  toLocal(dbAt: number): number {
    return dbAt - (this.best?.offsetMs ?? 0);
  }
}
