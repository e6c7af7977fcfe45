// The units ingest's app wires together: `ingest.stats` totals and deltas, how long a lost feed plays
// out on OBS, and srt-live-transmit's stderr news routed to the feed monitor, rejections named after the
// sender's handshake.
import { createLogger, ingestStats } from '@irlkit/shared';
import { describe, expect, it } from 'vitest';
import type { FeedSnapshot } from '../src/srt/feed-monitor.ts';
import { FeedStatistics, playoutAfterLoss } from '../src/srt/feed-stats.ts';
import { TransmitNewsRouter } from '../src/srt/transmit-news.ts';
import { parseStderrLine, type TransmitNews } from '../src/srt/transmit-output.ts';

const live: FeedSnapshot = { state: 'connected', connected: true, peer: '203.0.113.7:40000', bitrateKbps: 2500, lastPacketAgeMs: 3 };
const gone: FeedSnapshot = { state: 'disconnected', connected: false, peer: '203.0.113.7:40000', bitrateKbps: 0, lastPacketAgeMs: 9000 };
const report = { socketId: 1, rttMs: 42, receiveBufferMs: 480, latencyMs: 500, received: 50, lost: 2, dropped: 1, retransmitted: 3 };

describe('FeedStatistics', () => {
  it('sums the reports into totals and gives the change since the previous message', () => {
    const statistics = new FeedStatistics();
    statistics.onTransmitStats(report);
    statistics.onTransmitStats({ ...report, lost: 1, dropped: 0, retransmitted: 0 });
    const first = statistics.next(live, 100, 1_000);
    expect(ingestStats.parse(first)).toEqual(first);
    expect(first).toMatchObject({
      connected: true,
      rttMs: 42,
      receiveBufferMs: 480,
      latencyMs: 500,
      totals: { received: 100, lost: 3, dropped: 1, retransmitted: 3 },
    });
    expect(first.deltas).toEqual(first.totals);
    statistics.onTransmitStats({ ...report, lost: 4 });
    const second = statistics.next(live, 160, 1_250);
    expect(second.totals).toEqual({ received: 160, lost: 7, dropped: 2, retransmitted: 6 });
    expect(second.deltas).toEqual({ received: 60, lost: 4, dropped: 1, retransmitted: 3 });
    expect(statistics.next(live, 160, 1_500).deltas).toEqual({ received: 0, lost: 0, dropped: 0, retransmitted: 0 });
  });

  it('reports no RTT or buffer for a feed that is gone, nor after it went', () => {
    const statistics = new FeedStatistics();
    statistics.onTransmitStats(report);
    expect(statistics.next(gone, 0, 1_000)).toMatchObject({ rttMs: null, receiveBufferMs: null, latencyMs: null });
    statistics.onDisconnected();
    expect(statistics.next(live, 0, 1_250)).toMatchObject({ rttMs: null, receiveBufferMs: null });
  });
});

describe('playoutAfterLoss', () => {
  const latencies = { srtLatencyMs: 2000 };
  it('a lost sender: its data still in srt-live-transmit plays out (the TCP hop to OBS holds nothing back)', () => {
    expect(playoutAfterLoss({ ...latencies, lastPacketTs: 10_000 })).toBe(2000);
    expect(playoutAfterLoss({ ...latencies, lastPacketTs: 10_000, relayLastToObsTs: undefined })).toBe(2000);
  });
  it('srt-live-transmit killed: only what it wrote out plays, up to its last output', () => {
    expect(playoutAfterLoss({ ...latencies, lastPacketTs: 10_000, relayLastToObsTs: 9_990 })).toBe(0);
    expect(playoutAfterLoss({ ...latencies, lastPacketTs: 9_900, relayLastToObsTs: 10_000 })).toBe(100);
  });
  it("srt-live-transmit hung: OBS ran dry long before the sender's last packet, so nothing is left", () => {
    expect(playoutAfterLoss({ ...latencies, lastPacketTs: 11_600, relayLastToObsTs: 10_000 })).toBe(0);
  });
  it('a child that never reached OBS: the usual rule', () => {
    expect(playoutAfterLoss({ ...latencies, lastPacketTs: 10_000, relayLastToObsTs: null })).toBe(2000);
  });
});

describe('TransmitNewsRouter', () => {
  function setup() {
    const calls: string[] = [];
    const rejections: { peer: string | null; code: number; reason: string }[] = [];
    const router = new TransmitNewsRouter({
      monitor: {
        onSourceAccepted: () => calls.push('accepted'),
        onDisconnected: (reason) => calls.push(`disconnected: ${reason}`),
      },
      // Port 50001 is a relay peer's, 50002 an SRTLA group's; anything else is no sender's.
      senderOf: ({ from, port }) => (port === 50001 ? '203.0.113.7:40000' : port === 50002 ? from : undefined),
      onRejected: (rejection) => rejections.push(rejection),
      log: createLogger('news-test', 'silent'),
    });
    const line = (text: string) => router.handle(parseStderrLine(text) as TransmitNews);
    return { calls, rejections, router, line };
  }

  it('tells the monitor of acceptance and disconnection, and names rejections after a sender, not OBS reconnecting', () => {
    const t = setup();
    t.line('09:00:00.000000/srt-live-transmit*D:SRT.cn: @1: PASSING request from: 127.0.0.1:50001 to agent:1');
    t.line('09:00:00.000000/srt-live-transmit*D:SRT.cn: @2: PASSING request from: 127.0.0.1:50999 to agent:2');
    t.line('09:00:00.000000/srt-live-transmit*E:SRT.cn: @1: processConnectRequest: rsp(REJECT): 1006 - password required or unexpected');
    expect(t.rejections[0]?.peer).toBe('203.0.113.7:40000');
    t.line('Accepted SRT source connection');
    expect(t.calls).toEqual(['accepted']);
    t.line('SRT source disconnected');
    expect(t.calls.at(-1)).toBe('disconnected: SRT connection closed');
  });

  it('names the rejected sender by its outside address (or its loopback address for a bonded group)', () => {
    const t = setup();
    t.line('09:00:00.000000/srt-live-transmit*D:SRT.cn: @1: PASSING request from: 127.0.0.1:50002 to agent:1');
    t.line('09:00:00.000000/srt-live-transmit*E:SRT.cn: @1: processConnectRequest: rsp(REJECT): 1006 - password required or unexpected');
    expect(t.rejections).toEqual([{ peer: '127.0.0.1:50002', code: 1006, reason: 'password required or unexpected' }]);
  });

  it('rejects with no name when no sender handshake was seen', () => {
    const t = setup();
    t.line('09:00:00.000000/srt-live-transmit*E:SRT.cn: @1: processConnectRequest: rsp(REJECT): 1006 - password required or unexpected');
    expect(t.rejections[0]?.peer).toBeNull();
  });
});
