// What NAKs cost the phone, on real components: ffmpeg (libsrt) → the test kit's SRTLA sender (two links)
// → ingest → srt-live-transmit → a decoder. One link dies without the sender being told (a SIM losing
// signal), twice; until the sender stops using it (1.5 s), half its packets and retransmissions are lost.
// srt-live-transmit's loss report and its periodic NAK report often name the same loss within a
// millisecond, and each copy that reaches the sender is one more retransmission over the phone's upload:
// every lost packet must come through, and no packet may be carried more than the once it needs.
import { createLogger } from '@irlkit/shared';
import { freeUdpPort, nextEvent, startNats, startSrtFeed, startSrtlaSender, startSrtReader, type TestNats, testBus } from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { ingestConfig } from '../src/config.ts';

let nats: TestNats;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SRTLA NAKs on a real bonded feed', () => {
  it('gets every lost packet back through two dying links with no retransmission carried twice', async () => {
    const bus = await testBus(nats, 'naks', 'ingest');
    const observer = await testBus(nats, 'naks');
    const srtlaPort = await freeUdpPort();
    const outputPort = await freeUdpPort();
    const app = buildApp({
      config: ingestConfig.load({
        envFile: false,
        source: {
          NATS_URL: nats.url,
          IRL_STREAM_ID: 'naks',
          SRT_PORT: String(await freeUdpPort()),
          SRT_BIND: '127.0.0.1',
          SRTLA_PORT: String(srtlaPort),
          SRTLA_BIND: '127.0.0.1',
          INGEST_OUTPUT_PORT: String(outputPort),
          INGEST_RELAY_PORT: String(await freeUdpPort()),
          SRT_LATENCY_MS: '2000',
        },
      }),
      bus,
      log: createLogger('ingest', 'warn'),
    });
    await app.start();
    const reader = startSrtReader(outputPort);
    const sender = await startSrtlaSender({ host: '127.0.0.1', port: srtlaPort }, 2);
    const feed = startSrtFeed({ port: sender.port, bitrateKbps: 2500, latencyMs: 2000, durationS: 16 });
    try {
      await nextEvent(observer, 'ingest.link', (e) => e.event === 'connected', 'the bonded feed to connect', 20_000);
      for (const link of [0, 1]) {
        await sleep(2000);
        sender.setLoss(link, 1);
        await sleep(3000);
        sender.setLoss(link, 0);
      }
      expect(await feed.exited).toBe(0);
      await sleep(3000);
      const stats = await nextEvent(observer, 'ingest.stats', () => true, 'a last statistics sample');
      const retransmissions = [...sender.retransmissions];
      const lostOnLinks = retransmissions.reduce((sum, [, r]) => sum + r.sent - r.carried, 0);
      const extra = retransmissions
        .map(([seq, r]) => ({ seq, extra: r.carried - (sender.originalsLost.has(seq) ? 1 : 0), naked: sender.trace.get(seq)?.naked }))
        .filter((r) => r.extra > 0);
      const summary = {
        lost: stats.totals.lost,
        retransmitted: stats.totals.retransmitted,
        dropped: stats.totals.dropped,
        originalsLost: sender.originalsLost.size,
        lostOnLinks,
        extra,
      };
      // The faults really happened: originals and retransmissions died on the links.
      expect(sender.originalsLost.size, JSON.stringify(summary)).toBeGreaterThan(50);
      expect(lostOnLinks, JSON.stringify(summary)).toBeGreaterThan(20);
      // Every loss came back in time, and no packet was carried beyond the one copy it needs.
      expect(stats.totals.dropped, JSON.stringify(summary)).toBe(0);
      expect(extra, JSON.stringify(summary)).toEqual([]);
      expect(stats.totals.retransmitted, JSON.stringify(summary)).toBeLessThanOrEqual(stats.totals.lost);
      expect(reader.errors().trim(), 'decoder errors').toBe('');
    } finally {
      await feed.stop();
      await sender.stop();
      await reader.stop();
      await app.stop();
      await observer.closeConnection();
      await bus.closeConnection();
    }
  }, 60_000);
});
