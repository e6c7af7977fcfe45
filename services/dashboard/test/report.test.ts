// Sessions and their report from recorded events: outages with their causes and lengths, time per state,
// percentiles, bonded links' shares and drop-outs, and the CSV export.
import { switcherReasons } from '@irlkit/shared';
import { describe, expect, it } from 'vitest';
import { validEvents } from '../../../packages/shared/test/samples.ts';
import { buildReport, findSessions, type OutageCause, reportCsv, SESSION_JOIN_MS } from '../lib/history/report.ts';
import type { HistoryRecord } from '../lib/history/store.ts';
import { scriptedSession } from './scripted-session.ts';

const t0 = 1_800_000_000_000;

describe('sessions', () => {
  it('run from start to stop, join a restart within the join window, and split after a long gap', () => {
    const o = (ts: number, streaming: boolean) => ({ payload: { ...validEvents['obs.state'], ts, streaming } });
    const records = [o(0, true), o(100_000, false), o(200_000, true), o(300_000, false), o(300_000 + SESSION_JOIN_MS + 1, true)];
    expect(findSessions(records, 300_000 + SESSION_JOIN_MS + 1000)).toEqual([
      { id: '0', startTs: 0, endTs: 300_000 },
      { id: String(300_000 + SESSION_JOIN_MS + 1), startTs: 300_000 + SESSION_JOIN_MS + 1, endTs: null },
    ]);
    // Nothing recorded for long while "streaming": the session ends at the last record.
    expect(findSessions([o(0, true), o(60_000, true)], 10 * 3_600_000)).toEqual([{ id: '0', startTs: 0, endTs: 60_000 }]);
  });
});

describe('report', () => {
  const session = { id: String(t0), startTs: t0, endTs: t0 + 300_000 };
  const report = buildReport(session, scriptedSession(t0), t0 + 400_000);

  it('lists every outage with its cause and length', () => {
    expect(report.outages.map((o) => ({ cause: o.cause, start: o.startTs - t0, ms: o.durationMs }))).toEqual([
      { cause: 'no-feed', start: 0, ms: 400 },
      { cause: 'sender-stalled', start: 60_050, ms: 29_950 },
      { cause: 'obs-restarted', start: 120_200, ms: 14_600 },
    ]);
  });

  it('adds up time per state: live, by hand, offline, stopped', () => {
    expect(report.durationMs).toBe(300_000);
    expect(report.timeMs).toEqual({ live: 300_000 - 29_950 - 14_600 - 30_000 - 400, low: 0, offline: 29_950 + 400, manual: 30_000, stopped: 14_600 });
  });

  it('has bitrate and RTT percentiles, loss, links with share and drop-outs, switches and restarts', () => {
    expect(report.bitrateKbps.p50).toBeGreaterThanOrEqual(3000);
    expect(report.bitrateKbps.min).toBe(3000);
    expect(report.rttMs.p95).toBe(40);
    expect(report.packets.lost).toBe(300);
    const [a, b] = report.links;
    expect(a?.address).toBe('10.0.0.2:4000');
    expect(a?.dropOuts).toBe(0);
    expect(b?.dropOuts).toBe(1);
    expect((a?.share ?? 0) + (b?.share ?? 0)).toBeCloseTo(1, 2);
    expect(report.switches.map((s) => s.to)).toEqual(['live', 'offline', 'live']);
    expect(report.restarts).toEqual([{ ts: t0 + 120_000, what: 'obs', detail: 'SIGKILL' }]);
    expect(report.chart.length).toBe(300);
  });

  it('exports CSV with the outages', () => {
    const csv = reportCsv(report);
    expect(csv).toMatch(/^session,1800000000000\n/);
    expect(csv).toContain('sender stalled,feed stalled: no packet for 500 ms');
    expect(csv).toContain(',14.6,OBS restarted,');
  });
});

describe('outage causes', () => {
  // Every OFFLINE reason the switcher writes (with ingest's own words for a lost feed), and what the report calls it.
  const reasons: Array<[string, OutageCause]> = [
    [switcherReasons.waitingForFeed, 'no-feed'],
    [switcherReasons.feedLost('stalled', 'no data for 2000 ms'), 'sender-stalled'],
    [switcherReasons.pictureFroze(switcherReasons.feedLost('stalled', 'no data for 2000 ms')), 'sender-stalled'],
    [switcherReasons.feedLost('disconnected', 'sender 10.0.0.2:4000 closed the connection'), 'link-lost'],
    [switcherReasons.pictureFroze(switcherReasons.feedLost('disconnected', 'SRT connection closed')), 'link-lost'],
    [switcherReasons.feedLost('disconnected', 'no packet for 3.5 s'), 'link-lost'],
    [switcherReasons.noConnection, 'link-lost'],
    [switcherReasons.pictureFrozen, 'picture-frozen'],
    [switcherReasons.noPicture, 'picture-frozen'],
    [switcherReasons.obsRestarted, 'obs-restarted'],
    ['settings changed', 'unknown'],
  ];

  it.each(reasons)('"%s" is %s', (reason, cause) => {
    const sw = (ts: number, state: 'live' | 'offline', why: string): HistoryRecord => ({
      name: 'switcher.state',
      payload: { ...validEvents['switcher.state'], ts, since: ts, state, reason: why },
    });
    const obs = (ts: number, streaming: boolean): HistoryRecord => ({
      name: 'obs.state',
      payload: { ...validEvents['obs.state'], ts, streaming, programScene: 'Live' },
    });
    const records = [
      obs(t0, true),
      sw(t0 + 100, 'live', 'feed back, picture moving'),
      sw(t0 + 20_000, 'offline', reason),
      sw(t0 + 30_000, 'live', 'feed back, picture moving'),
      obs(t0 + 60_000, false),
    ];
    const report = buildReport({ id: String(t0), startTs: t0, endTs: t0 + 60_000 }, records, t0 + 60_000);
    expect(report.outages).toEqual([{ startTs: t0 + 20_000, endTs: t0 + 30_000, durationMs: 10_000, cause, detail: reason }]);
  });
});

describe('a bonded sender stalling', () => {
  // Data stops at 20 s, OFFLINE at 22 s; the link table once a second either keeps hearing both links or hears neither.
  const stalled = switcherReasons.pictureFroze(switcherReasons.feedLost('stalled', 'no data for 500 ms'));
  const session = (linksTalk: boolean) => {
    const link = (address: string, lastSeenMsAgo: number) => ({ ...validEvents['ingest.srtla'].links[0], address, lastSeenMsAgo }) as never;
    const records: HistoryRecord[] = [
      { name: 'obs.state', payload: { ...validEvents['obs.state'], ts: t0, streaming: true, programScene: 'Live' } },
      { name: 'switcher.state', payload: { ...validEvents['switcher.state'], ts: t0 + 100, since: t0 + 100, state: 'live', reason: 'feed back' } },
    ];
    for (let s = 1; s < 40; s++) {
      const silentMs = !linksTalk && s >= 20 && s < 30 ? (s - 20) * 1000 + 500 : 300;
      const links = silentMs > 5000 ? [] : [link('10.0.0.2:4000', silentMs), link('10.0.0.3:4000', silentMs)];
      records.push({ name: 'ingest.srtla', payload: { ...validEvents['ingest.srtla'], ts: t0 + s * 1000 + 50, links } });
    }
    records.push({
      name: 'switcher.state',
      payload: { ...validEvents['switcher.state'], ts: t0 + 22_000, since: t0 + 22_000, state: 'offline', reason: stalled },
    });
    records.push({
      name: 'switcher.state',
      payload: { ...validEvents['switcher.state'], ts: t0 + 32_000, since: t0 + 32_000, state: 'live', reason: 'feed back' },
    });
    records.sort((a, b) => a.payload.ts - b.payload.ts);
    return buildReport({ id: String(t0), startTs: t0, endTs: t0 + 40_000 }, records, t0 + 40_000).outages;
  };

  it('is the sender when its links kept talking', () => {
    expect(session(true).map((o) => [o.cause, o.detail])).toEqual([['sender-stalled', stalled]]);
  });

  it('is the link when every bonded link fell silent too', () => {
    expect(session(false).map((o) => [o.cause, o.detail])).toEqual([['link-lost', `${stalled}; every bonded link went silent`]]);
  });
});
