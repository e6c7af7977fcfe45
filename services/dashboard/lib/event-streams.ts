// How many event streams may be open, and what one does when its reader falls behind. Pure: the
// events route owns the streams, this decides.

/** A stream whose unread queue is over this drops preview frames (the next one comes in a second). */
export const FRAME_DROP_QUEUE_BYTES = 512 * 1024;
/** A stream whose unread queue is over this is closed: its reader is gone; it reconnects to a snapshot. */
export const CLOSE_QUEUE_BYTES = 4 * 1024 * 1024;

export type Admission = { open: true; release(): void } | { open: false; error: string };

export class EventStreamCounter {
  private readonly bySession = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly limits: { perSession: number; total: number },
    /** Told the number of open streams whenever it changes. */
    private readonly onCount: (open: number) => void = () => {},
  ) {}

  open(sessionKey: string): Admission {
    const mine = this.bySession.get(sessionKey) ?? 0;
    if (mine >= this.limits.perSession)
      return { open: false, error: `this session already has ${mine} event streams open (at most ${this.limits.perSession})` };
    if (this.total >= this.limits.total)
      return { open: false, error: `the dashboard already serves ${this.total} event streams (at most ${this.limits.total})` };
    this.bySession.set(sessionKey, mine + 1);
    this.total += 1;
    this.onCount(this.total);
    let released = false;
    return {
      open: true,
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        this.onCount(this.total);
        const left = (this.bySession.get(sessionKey) ?? 1) - 1;
        if (left > 0) this.bySession.set(sessionKey, left);
        else this.bySession.delete(sessionKey);
      },
    };
  }
}

export type Verdict = 'send' | 'drop' | 'close';

/** What to do with an event given the bytes its stream has queued and not yet handed to the socket. */
export function backpressure(eventName: string, queuedBytes: number, eventBytes: number): Verdict {
  if (queuedBytes + eventBytes > CLOSE_QUEUE_BYTES) return 'close';
  if (eventName === 'obs.screenshot' && queuedBytes + eventBytes > FRAME_DROP_QUEUE_BYTES) return 'drop';
  return 'send';
}
