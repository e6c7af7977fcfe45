// The NOALBS reference and the replay harness behave as documented on synthetic traces.

import { DEFAULT_SWITCHER_SETTINGS } from '@irlkit/shared';
import { describe, expect, it } from 'vitest';
import { delaysAfter, replayIrlkit, replayNoalbs, type TraceEvent } from '../bench/replay.ts';

function statsEvery250(from: number, to: number, kbps: number, connected = true): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (let t = from; t < to; t += 250) out.push({ t, type: 'stats', connected, bitrateKbps: kbps, rttMs: 20 });
  return out;
}

describe('replay', () => {
  const kill = 10_000;
  const trace: TraceEvent[] = [
    ...statsEvery250(0, kill, 2500),
    { t: kill, type: 'mark', label: 'kill' },
    { t: kill + 500, type: 'link', event: 'stalled' },
    ...statsEvery250(kill, kill + 1000, 1200),
    ...statsEvery250(kill + 1000, kill + 5000, 0),
    { t: kill + 5000, type: 'link', event: 'disconnected' },
    ...statsEvery250(kill + 5000, 30_000, 0, false),
  ];

  it('NOALBS switches to offline after 6 identical samples, about 6 s', () => {
    const switches = replayNoalbs(trace, DEFAULT_SWITCHER_SETTINGS);
    const [delay] = delaysAfter(trace, switches, 'kill', 'offline');
    expect(delay).toBeGreaterThanOrEqual(6000);
    expect(delay).toBeLessThanOrEqual(8000);
  });

  it('irlkit switches to offline with the stall event', () => {
    const switches = replayIrlkit(trace, DEFAULT_SWITCHER_SETTINGS);
    expect(delaysAfter(trace, switches, 'kill', 'offline')).toEqual([500]);
  });

  it('NOALBS recovers on the first healthy sample; irlkit once frames move', () => {
    const back = 30_000;
    const more: TraceEvent[] = [
      ...trace,
      { t: back, type: 'mark', label: 'restart' },
      { t: back + 300, type: 'link', event: 'connected' },
      ...statsEvery250(back + 300, back + 10_000, 2500),
      { t: back + 1100, type: 'frames' },
    ];
    expect(delaysAfter(more, replayNoalbs(more, DEFAULT_SWITCHER_SETTINGS), 'restart', 'live')[0]).toBeLessThanOrEqual(2000);
    expect(delaysAfter(more, replayIrlkit(more, DEFAULT_SWITCHER_SETTINGS), 'restart', 'live')).toEqual([1100]);
  });

  it('replays the buffer rule with the buffers, and the earlier rule without them, on the same trace', () => {
    const withBuffers: TraceEvent[] = trace.map((e) => (e.type === 'link' ? { ...e, lastPacketTs: kill, playoutMs: 2200 } : e));
    const freeze = delaysAfter(withBuffers, replayIrlkit(withBuffers, DEFAULT_SWITCHER_SETTINGS, 'live', 'freeze'), 'kill', 'offline');
    expect(freeze).toEqual([2200 + DEFAULT_SWITCHER_SETTINGS.pictureLagMs]);
    expect(delaysAfter(withBuffers, replayIrlkit(withBuffers, DEFAULT_SWITCHER_SETTINGS, 'live', 'stall'), 'kill', 'offline')).toEqual([500]);
  });
});
