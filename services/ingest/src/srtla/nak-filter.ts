// One bonded sender's NAKs, thinned before they reach it: the SRT listener repeats a loss in its
// periodic NAK report (and its immediate loss report and the first periodic one often leave in the
// same millisecond) before the retransmission could have arrived, and every copy that reaches the
// sender costs a retransmission over the phone's upload. A sequence number asked for less than one
// retransmission turnaround ago is left out; once that time has passed without the packet, it is
// asked for again (the retransmission was lost, e.g. on a SIM that just died).
// Pure state: the caller passes datagrams and the time in.
import { SRT_HEADER_BYTES } from '../wire/srt.ts';

/** Turnaround (NAK forwarded → its retransmission here) assumed before one was measured. */
export const NAK_TURNAROUND_DEFAULT_MS = 100;
/** Bounds of the hold: a re-request is never held shorter, nor (a slow link, a bad sample) longer. */
export const NAK_HOLD_MIN_MS = 20;
export const NAK_HOLD_MAX_MS = 500;
/** Ranges longer than this (an outage) pass as they are, untracked: the filter is for scattered losses. */
const MAX_TRACKED_RANGE = 128;
/** Requests remembered at most this long, and at most this many (the oldest go first). */
const FORGET_MS = 5000;
const MAX_TRACKED = 8192;
const SEQ_MASK = 0x7fffffff;

interface Asked {
  at: number;
  /** How many times it was forwarded: only a once-asked packet's arrival times the turnaround (Karn). */
  times: number;
  /** Its retransmission arrived (the turnaround is timed once). */
  answered: boolean;
}

export class NakFilter {
  private readonly asked = new Map<number, Asked>();
  private srtt: number | null = null;
  private rttvar = 0;
  /** Sequence numbers left out of NAKs, and NAKs left out whole (nothing left to ask). */
  held = 0;
  naksDropped = 0;

  /** How long a forwarded request holds back its repeats: the turnaround plus four deviations, bounded. */
  holdMs(): number {
    const estimate = this.srtt === null ? NAK_TURNAROUND_DEFAULT_MS : this.srtt + 4 * this.rttvar;
    return Math.min(NAK_HOLD_MAX_MS, Math.max(NAK_HOLD_MIN_MS, Math.round(estimate)));
  }

  /** A data packet with SRT's retransmitted flag arrived from the sender. */
  retransmissionArrived(seq: number, now: number): void {
    const asked = this.asked.get(seq);
    // Kept, not forgotten: on a short path the retransmission can pass a repeat the listener sent
    // before it arrived, and that repeat must still be held.
    if (!asked || asked.answered) return;
    asked.answered = true;
    if (asked.times !== 1) return;
    const sample = now - asked.at;
    if (this.srtt === null) {
      this.srtt = sample;
      this.rttvar = sample / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - sample);
      this.srtt = 0.875 * this.srtt + 0.125 * sample;
    }
  }

  /**
   * The NAK to send on, without the sequence numbers asked for within the hold; null when none is
   * left. A malformed loss list passes untouched (the sender's SRT judges it, as without the filter).
   */
  filter(nak: Buffer, now: number): Buffer | null {
    if ((nak.length - SRT_HEADER_BYTES) % 4 !== 0 || nak.length === SRT_HEADER_BYTES) return nak;
    this.forget(now);
    const hold = this.holdMs();
    const ranges: Array<[number, number]> = [];
    let changed = false;
    for (let at = SRT_HEADER_BYTES; at < nak.length; at += 4) {
      const word = nak.readUInt32BE(at);
      let first = word & SEQ_MASK;
      let last = first;
      if (word & 0x80000000) {
        if (at + 8 > nak.length) return nak;
        last = nak.readUInt32BE(at + 4) & SEQ_MASK;
        at += 4;
      }
      const count = ((last - first) & SEQ_MASK) + 1;
      if (count > MAX_TRACKED_RANGE) {
        ranges.push([first, last]);
        continue;
      }
      for (let i = 0; i < count; i++, first = (first + 1) & SEQ_MASK) {
        const asked = this.asked.get(first);
        if (asked && now - asked.at < hold) {
          this.held += 1;
          changed = true;
          continue;
        }
        this.asked.delete(first); // re-inserted last: the map stays in order of asking
        this.asked.set(first, { at: now, times: (asked?.times ?? 0) + 1, answered: false });
        extend(ranges, first);
      }
    }
    while (this.asked.size > MAX_TRACKED) this.asked.delete(this.asked.keys().next().value as number);
    if (!changed) return nak;
    if (ranges.length === 0) {
      this.naksDropped += 1;
      return null;
    }
    const words: number[] = [];
    for (const [first, last] of ranges) words.push(...(first === last ? [first] : [(first | 0x80000000) >>> 0, last]));
    const out = Buffer.alloc(SRT_HEADER_BYTES + 4 * words.length);
    nak.copy(out, 0, 0, SRT_HEADER_BYTES);
    for (const [i, word] of words.entries()) out.writeUInt32BE(word, SRT_HEADER_BYTES + 4 * i);
    return out;
  }

  private forget(now: number): void {
    for (const [seq, asked] of this.asked) {
      if (now - asked.at < FORGET_MS) break;
      this.asked.delete(seq);
    }
  }
}

/** Appends a sequence number to a loss list kept in its order, as part of the last run when it follows it (wrapping at 2^31). */
function extend(ranges: Array<[number, number]>, seq: number): void {
  const run = ranges[ranges.length - 1];
  if (run && ((run[1] + 1) & SEQ_MASK) === seq) run[1] = seq;
  else ranges.push([seq, seq]);
}
