// The stats endpoint on the dashboard's port, read the way NOALBS reads it: OpenIRL's shape and (legacy=1)
// SRT Live Server's, from a real dashboard server fed by a real ingest with a live ffmpeg SRT feed, then
// with the feed gone; with the right key, a wrong one and none.
import { createLogger, type IngestStats } from '@irlkit/shared';
import {
  collectEvents,
  freeTcpPort,
  freeUdpPort,
  nextEvent,
  startDashboard,
  startFeedReader,
  startNats,
  startSrtFeed,
  type TestDashboard,
  type TestNats,
  testBus,
} from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp as buildIngest } from '../../ingest/src/app.ts';
import { ingestConfig } from '../../ingest/src/config.ts';

const KEY = 'stats-key-0123456789abcdef';
let nats: TestNats;
let dashboard: TestDashboard;
let ingest: ReturnType<typeof buildIngest>;
let ingestBus: Awaited<ReturnType<typeof testBus>>;
let observer: Awaited<ReturnType<typeof testBus>>;
let reader: ReturnType<typeof startFeedReader>;
let srtPort: number;

const get = async (path: string) => {
  const response = await fetch(`${dashboard.url}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, at: Date.now() };
};

beforeAll(async () => {
  nats = await startNats();
  srtPort = await freeUdpPort();
  const outputPort = await freeTcpPort();
  ingestBus = await testBus(nats, 'main', 'ingest');
  ingest = buildIngest({
    config: ingestConfig.load({
      envFile: false,
      source: {
        NATS_URL: nats.url,
        NATS_PASSWORD: nats.password,
        SRT_PORT: String(srtPort),
        SRT_BIND: '127.0.0.1',
        SRT_LATENCY_MS: '500',
        INGEST_OUTPUT_PORT: String(outputPort),
        INGEST_RELAY_PORT: String(await freeUdpPort()),
        SRTLA_PORT: '0',
      },
    }),
    bus: ingestBus,
    log: createLogger('ingest', 'warn'),
  });
  await ingest.start();
  reader = startFeedReader(outputPort); // plays OBS, reading ingest's output
  observer = await testBus(nats);
  dashboard = await startDashboard(nats, { DASHBOARD_STATS_KEY: KEY });
}, 120_000);

afterAll(async () => {
  await dashboard?.stop();
  await reader?.stop();
  await ingest?.stop();
  await ingestBus?.closeConnection();
  await observer?.closeConnection();
  await nats?.stop();
});

describe('stats endpoint', () => {
  it('refuses a wrong key or none, and answers offline in both shapes before any sender', async () => {
    expect((await get('/stats/wrong-key-0123456789abcdef')).status).toBe(403);
    expect((await get('/stats/')).status).toBe(403);
    expect((await get(`/stats/${KEY.slice(0, -1)}`)).status).toBe(403);
    const offline = await get(`/stats/${KEY}`);
    expect(offline).toMatchObject({ status: 200, body: { status: 'ok', message: 'Publisher is currently not streaming' } });
    expect(offline.body).not.toHaveProperty('publisher');
    const legacy = await get(`/stats/${KEY}?legacy=1`);
    expect(legacy).toMatchObject({ status: 200, body: { status: 'ok', publishers: {}, message: 'Publisher is currently not streaming' } });
  });

  it("reports a live ffmpeg feed in OpenIRL's and SRT Live Server's shapes, agreeing with ingest.stats", async () => {
    const published = collectEvents(observer, 'ingest.stats');
    const feed = startSrtFeed({ port: srtPort, bitrateKbps: 1500, latencyMs: 500, streamId: 'publish/live/feed1' });
    try {
      await nextEvent(observer, 'ingest.stats', (s) => s.connected && s.bitrateKbps > 500, 'the feed to flow', 30_000);
      await new Promise((r) => setTimeout(r, 1500));
      const modern = await get(`/stats/${KEY}`);
      const legacy = await get(`/stats/${KEY}?legacy=1`);
      expect(modern.status, JSON.stringify(modern.body)).toBe(200);
      expect(modern.body, JSON.stringify(modern.body)).toHaveProperty('publisher');
      const publisher = modern.body.publisher as Record<string, number>;
      expect(modern.body.status).toBe('ok');
      expect(Object.keys(publisher).sort()).toEqual(['bitrate', 'buffer', 'dropped_pkts', 'latency', 'rtt', 'uptime']);
      // Within one statistics period (250 ms) of a sample ingest published around the request.
      const near = (at: number) => published.items.filter((s): s is IngestStats & { receivedAt: number } => s.connected && Math.abs(s.receivedAt - at) <= 500);
      expect(near(modern.at).some((s) => Math.round(s.bitrateKbps) === publisher.bitrate)).toBe(true);
      expect(near(modern.at).some((s) => s.rttMs === publisher.rtt)).toBe(true);
      expect(publisher.bitrate).toBeGreaterThan(500);
      expect(publisher.latency).toBeGreaterThanOrEqual(500);
      expect(publisher.uptime).toBeGreaterThanOrEqual(1);
      expect(publisher.uptime).toBeLessThan(30);

      const publishers = legacy.body.publishers as Record<string, Record<string, number>>;
      // Keyed `live` as OpenIRL's legacy output does, and by the sender's own stream id as SRT Live Server does.
      expect(Object.keys(publishers).sort()).toEqual(['live', 'publish/live/feed1']);
      const sls = publishers.live as Record<string, number>;
      for (const field of ['bitrate', 'bytesRcvDrop', 'bytesRcvLoss', 'mbpsBandwidth', 'mbpsRecvRate', 'msRcvBuf', 'pktRcvDrop', 'pktRcvLoss', 'rtt', 'uptime'])
        expect(typeof sls[field], field).toBe('number');
      expect(near(legacy.at).some((s) => Math.round(s.bitrateKbps) === sls.bitrate)).toBe(true);
      expect(sls.mbpsRecvRate).toBeCloseTo(sls.bitrate / 1000, 0);
    } finally {
      published.stop();
      await feed.stop();
    }
    await nextEvent(observer, 'ingest.stats', (s) => !s.connected, 'the feed to end', 20_000);
    expect((await get(`/stats/${KEY}`)).body).toEqual({ status: 'ok', message: 'Publisher is currently not streaming' });
    expect((await get(`/stats/${KEY}?legacy=1`)).body).toEqual({ status: 'ok', publishers: {}, message: 'Publisher is currently not streaming' });
  });
});
