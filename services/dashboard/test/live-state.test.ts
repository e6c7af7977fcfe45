// The dashboard's live state, one event at a time: the reducer keyed by event name that both the
// snapshot replay and live events go through (pure; the page itself is clicked in dashboard.test.ts).
import type { IngestStats, LogEntry, ProcessEvent } from '@irlkit/shared';
import { describe, expect, it } from 'vitest';
import { validEvents } from '../../../packages/shared/test/samples.ts';
import { notices } from '../components/live/notifications.ts';
import { CHART_WINDOW_MS, initialLiveState, type LiveAction, liveReducer } from '../components/live/state.ts';

const event = (name: Extract<LiveAction, { type: 'event' }>['name'], payload: unknown, receivedAt = 10_000, serverClockOffsetMs = 0): LiveAction => ({
  type: 'event',
  name,
  payload,
  receivedAt,
  serverClockOffsetMs,
});
const stats = (ts: number, bitrateKbps: number): IngestStats => ({
  ts,
  connected: true,
  peer: '203.0.113.7:40000',
  bitrateKbps,
  rttMs: 40,
  receiveBufferMs: 400,
  lastPacketAgeMs: 2,
  totals: { received: 0, lost: 0, dropped: 0, retransmitted: 0 },
  deltas: { received: 100, lost: 2, dropped: 1, retransmitted: 0 },
});

describe('liveReducer', () => {
  it('keeps the chart to its window and dates a sample by the server clock, never in the future', () => {
    let state = liveReducer(initialLiveState, event('ingest.stats', stats(1_000, 2500)));
    state = liveReducer(state, event('ingest.stats', stats(1_000 + CHART_WINDOW_MS + 1, 2400), 5_000, 100));
    expect(state.points.map((p) => p.bitrate)).toEqual([2400]);
    expect(state.points[0]?.loss).toBe(3);
    expect(state.statsTakenAt).toBe(5_000); // stats.ts + offset would be later than now: capped
    state = liveReducer(state, event('ingest.stats', stats(2_000, 2300), 9_000, -5_000));
    expect(state.statsTakenAt).toBe(2_000 - 5_000);
  });

  it('puts log entries and process events on the timeline, newest first, and follows containers', () => {
    const entry: LogEntry = { ts: 1, level: 'info', source: 'ingest', message: 'Feed connected' };
    const exited: ProcessEvent = { ts: 2, service: 'obs-bridge', kind: 'container', child: 'obs', event: 'exited', restartInMs: 1000 } as ProcessEvent;
    let state = liveReducer(initialLiveState, event('log', entry));
    state = liveReducer(state, event('process', exited));
    expect(state.timeline.map((e) => e.message)).toEqual(['obs exited (restart in 1000 ms)', 'Feed connected']);
    expect(state.timeline[0]?.level).toBe('error');
    expect(state.containers.obs?.event).toBe('exited');
    for (let i = 0; i < 60; i++) state = liveReducer(state, event('log', { ...entry, ts: 10 + i }));
    expect(state.timeline).toHaveLength(50);
  });

  it('starts the lists over on a replay and keeps the latest state', () => {
    let state = liveReducer(initialLiveState, event('log', { ts: 1, level: 'info', source: 'x', message: 'm' }));
    state = liveReducer(state, event('ingest.stats', stats(1_000, 2500)));
    state = liveReducer(state, { type: 'replay' });
    expect(state.timeline).toEqual([]);
    expect(state.points).toEqual([]);
    expect(state.stats?.bitrateKbps).toBe(2500);
  });
});

describe('browser notifications', () => {
  it('notify a lost feed, its return and a stop, not a replayed snapshot', () => {
    const now = 1_000_000;
    const sw = (state: 'live' | 'offline', ts: number) => ({ ...validEvents['switcher.state'], state, ts, reason: 'r' });
    const live = { ...initialLiveState, switcher: sw('live', now - 1000), obs: { ...validEvents['obs.state'], streaming: true, ts: now - 1000 } };
    const lost = { ...live, switcher: sw('offline', now) };
    expect(notices(live, lost, now).map((n) => n.title)).toEqual(['Feed lost']);
    expect(notices(lost, { ...lost, switcher: sw('live', now) }, now).map((n) => n.title)).toEqual(['Feed back']);
    expect(notices(live, { ...live, obs: { ...validEvents['obs.state'], streaming: false, ts: now } }, now).map((n) => n.title)).toEqual(['Stream stopped']);
    expect(notices(live, { ...live, switcher: sw('offline', now - 60_000) }, now)).toEqual([]);
  });
});
