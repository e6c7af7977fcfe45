import { describe, expect, it } from 'vitest';
import { NAK_HOLD_MAX_MS, NAK_HOLD_MIN_MS, NAK_TURNAROUND_DEFAULT_MS, NakFilter } from '../src/srtla/nak-filter.ts';

/** An SRT NAK whose loss list holds these entries: a number, or [first, last] for a range. */
function nak(...entries: Array<number | [number, number]>): Buffer {
  const words = entries.flatMap((e) => (typeof e === 'number' ? [e] : [(e[0] | 0x80000000) >>> 0, e[1]]));
  const b = Buffer.alloc(16 + 4 * words.length);
  b.writeUInt16BE(0x8003, 0);
  b.writeUInt32BE(0x1234, 12); // destination socket id: must survive a rewrite
  for (const [i, w] of words.entries()) b.writeUInt32BE(w, 16 + 4 * i);
  return b;
}

/** The loss list a NAK carries, as nak() takes it. */
function entries(b: Buffer | null): Array<number | [number, number]> | null {
  if (!b) return null;
  const out: Array<number | [number, number]> = [];
  for (let at = 16; at < b.length; at += 4) {
    const w = b.readUInt32BE(at);
    if (w & 0x80000000) {
      out.push([w & 0x7fffffff, b.readUInt32BE(at + 4)]);
      at += 4;
    } else out.push(w);
  }
  return out;
}

describe('NAK filter (one bonded sender)', () => {
  it('drops a repeat of a loss asked for within the hold (immediate report and periodic report together), and asks again after it', () => {
    const f = new NakFilter();
    const first = nak(5);
    expect(f.filter(first, 1000)).toBe(first);
    expect(f.filter(nak(5), 1001)).toBeNull();
    expect(f.filter(nak(5), 1000 + NAK_TURNAROUND_DEFAULT_MS - 1)).toBeNull();
    expect(f.held).toBe(2);
    expect(f.naksDropped).toBe(2);
    // The retransmission never came (lost on a dying link): once the hold is over, the sender is asked again.
    expect(entries(f.filter(nak(5), 1000 + NAK_TURNAROUND_DEFAULT_MS))).toEqual([5]);
  });

  it('holds a repeat the listener sent before the retransmission reached it, even when the retransmission passed it on the way', () => {
    const f = new NakFilter();
    f.filter(nak(7), 0);
    f.retransmissionArrived(7, 1); // a loopback-short path: answered within a millisecond
    expect(f.filter(nak(7), 2)).toBeNull();
  });

  it('rewrites a loss list to what was not asked for lately, keeping its order, ranges and header', () => {
    const f = new NakFilter();
    f.filter(nak(5, [10, 12]), 0);
    const out = f.filter(nak(5, [10, 13], 20), 10);
    expect(entries(out)).toEqual([13, 20]);
    expect(out?.readUInt16BE(0)).toBe(0x8003);
    expect(out?.readUInt32BE(12)).toBe(0x1234);
    expect(entries(f.filter(nak([7, 9], 10, 11, 12, [14, 16]), 20))).toEqual([
      [7, 9],
      [14, 16],
    ]);
  });

  it('times the hold by the measured turnaround (NAK forwarded → retransmission here), within bounds', () => {
    const f = new NakFilter();
    expect(f.holdMs()).toBe(NAK_TURNAROUND_DEFAULT_MS);
    for (let i = 0; i < 50; i++) {
      f.filter(nak(100 + i), i * 100);
      f.retransmissionArrived(100 + i, i * 100 + 30);
    }
    expect(f.holdMs()).toBeGreaterThanOrEqual(30);
    expect(f.holdMs()).toBeLessThan(40);
    // A repeat just after the turnaround is asked again.
    f.filter(nak(1), 10_000);
    expect(f.filter(nak(1), 10_001)).toBeNull();
    expect(entries(f.filter(nak(1), 10_000 + f.holdMs()))).toEqual([1]);
    // A packet asked for twice times nothing (which request did it answer?).
    f.retransmissionArrived(1, 10_500);
    expect(f.holdMs()).toBeLessThan(40);
    const fast = new NakFilter();
    for (let i = 0; i < 50; i++) {
      fast.filter(nak(i), i);
      fast.retransmissionArrived(i, i);
    }
    expect(fast.holdMs()).toBe(NAK_HOLD_MIN_MS);
    const slow = new NakFilter();
    for (let i = 0; i < 50; i++) {
      slow.filter(nak(i), i * 5000);
      slow.retransmissionArrived(i, i * 5000 + 2000);
    }
    expect(slow.holdMs()).toBe(NAK_HOLD_MAX_MS);
  });

  it('passes long ranges (an outage) untracked, wraps sequence numbers, and leaves malformed lists to the sender', () => {
    const f = new NakFilter();
    const outage = nak([1000, 5000]);
    expect(f.filter(outage, 0)).toBe(outage);
    expect(f.filter(nak([1000, 5000]), 1)).not.toBeNull();
    expect(f.filter(nak([0x7ffffffe, 1]), 0)).not.toBeNull();
    expect(entries(f.filter(nak(0x7fffffff, 2), 5))).toEqual([2]);
    const odd = Buffer.concat([nak(5), Buffer.from([1, 2])]);
    expect(f.filter(odd, 0)).toBe(odd);
    const cut = nak([5, 6]).subarray(0, 20);
    expect(f.filter(cut, 0)).toBe(cut);
  });
});
