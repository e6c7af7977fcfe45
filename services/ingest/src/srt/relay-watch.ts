// Tells a hung srt-live-transmit from a quiet one: the sender's data keeps arriving, yet the child
// answers nothing (no ACK, no reply of any kind, no statistics line) for a few seconds. No I/O.

export interface RelayWatchOptions {
  /** Input flowing this long with no answer at all means hung. */
  hungAfterMs: number;
  /** Input counts as flowing while its last packet is younger than this. */
  inputFreshMs: number;
}

export class RelayWatch {
  private lastInputAt: number | null = null;
  /** First input since the last answer: how long the child has been silent while fed. */
  private unansweredSince: number | null = null;

  constructor(private readonly options: RelayWatchOptions) {}

  /** A data packet of the accepted sender went to srt-live-transmit. */
  onInput(now: number): void {
    this.lastInputAt = now;
    this.unansweredSince ??= now;
  }

  /** srt-live-transmit said something: a reply to a sender, or a statistics line. */
  onAnswer(): void {
    this.unansweredSince = null;
  }

  /** The child was restarted or the feed ended: start over. */
  reset(): void {
    this.lastInputAt = null;
    this.unansweredSince = null;
  }

  /** The cause, when the child looks hung; undefined otherwise. */
  check(now: number): string | undefined {
    if (this.unansweredSince === null || this.lastInputAt === null) return undefined;
    if (now - this.lastInputAt > this.options.inputFreshMs) return undefined;
    const silentMs = now - this.unansweredSince;
    if (silentMs < this.options.hungAfterMs) return undefined;
    return `hung: the sender's data kept arriving for ${(silentMs / 1000).toFixed(1)} s with no answer or statistics from it`;
  }
}
