// SRT stream ids: each convention senders use is parsed, and with a stream key configured a real ffmpeg
// sender naming it publishes (its stream id in ingest.stats) while a wrong or missing id is refused
// with the reason on ingest.link and the timeline.
import { createLogger } from '@irlkit/shared';
import {
  armEvent,
  freeTcpPort,
  freeUdpPort,
  nextEvent,
  startFeedReader,
  startNats,
  startSrtFeed,
  startSrtlaSender,
  type TestNats,
  testBus,
} from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { ingestConfig } from '../src/config.ts';
import { parseStreamId, refusal } from '../src/srt/stream-id.ts';
import { handshakeStreamId } from '../src/wire/srt.ts';

describe('stream id conventions', () => {
  it.each([
    ['publish/live/feed1', 'srt-live-server', 'feed1', false],
    ['play/live/feed1', 'srt-live-server', 'feed1', true],
    ['live_38f01143fc', 'openirl', '38f01143fc', false],
    ['play_38f01143fc', 'openirl', '38f01143fc', true],
    ['publish:mystream', 'mediamtx', 'mystream', false],
    ['publish:mystream:user:pass', 'mediamtx', 'mystream', false],
    ['read:mystream', 'mediamtx', 'mystream', true],
    ['#!::r=mystream,m=publish', 'access-control', 'mystream', false],
    ['#!::u=me,r=mystream', 'access-control', 'mystream', true],
    ['mykey123', 'bare', 'mykey123', false],
    ['', 'none', '', false],
  ])('%s is %s naming %s', (sid, convention, name, reads) => {
    expect(parseStreamId(sid)).toEqual({ convention, name, reads });
  });

  it('refuses a wrong, missing or reading id only when a key is configured, without echoing the key', () => {
    expect(refusal('anything', undefined)).toBeNull();
    expect(refusal('publish/live/k3y-secret', 'k3y-secret')).toBeNull();
    expect(refusal('', 'k3y-secret')).toMatch(/no stream id/);
    expect(refusal('play_k3y-secret', 'k3y-secret')).toMatch(/asks to read/);
    const wrong = refusal('publish/live/k3y-secrex', 'k3y-secret') as string;
    expect(wrong).toMatch(/wrong stream key/);
    expect(wrong).not.toContain('k3y-secrex');
  });

  it('reads the stream id from a conclusion handshake, as SRT writes it (byte-reversed 32-bit words)', () => {
    const sid = Buffer.from('publish/live/feed1');
    const words = Math.ceil(sid.length / 4);
    const hs = Buffer.alloc(64 + 4 + 16 + 4 + words * 4);
    hs.writeUInt16BE(0x8000, 0);
    hs.writeUInt32BE(5, 16); // HSv5
    hs.writeUInt32BE(0xffffffff, 36); // conclusion
    hs.writeUInt16BE(1, 64); // HSREQ first, 3 words
    hs.writeUInt16BE(3, 66);
    hs.writeUInt16BE(5, 80); // SID
    hs.writeUInt16BE(words, 82);
    const padded = Buffer.concat([sid, Buffer.alloc(words * 4 - sid.length)]);
    for (let w = 0; w < words; w++)
      padded
        .subarray(w * 4, w * 4 + 4)
        .reverse()
        .copy(hs, 84 + w * 4);
    expect(handshakeStreamId(hs)).toBe('publish/live/feed1');
    hs.writeUInt32BE(1, 36); // an induction carries none
    expect(handshakeStreamId(hs)).toBeUndefined();
  });
});

describe('stream key on a real ingest', () => {
  const KEY = 'feed1-key';
  let nats: TestNats;
  let ingest: ReturnType<typeof buildApp>;
  let bus: Awaited<ReturnType<typeof testBus>>;
  let observer: Awaited<ReturnType<typeof testBus>>;
  let reader: ReturnType<typeof startFeedReader>;
  let srtPort: number;
  let srtlaPort: number;

  beforeAll(async () => {
    nats = await startNats();
    srtPort = await freeUdpPort();
    srtlaPort = await freeUdpPort();
    const outputPort = await freeTcpPort();
    bus = await testBus(nats, 'main', 'ingest');
    observer = await testBus(nats);
    ingest = buildApp({
      config: ingestConfig.load({
        envFile: false,
        source: {
          NATS_URL: nats.url,
          NATS_PASSWORD: nats.password,
          SRT_PORT: String(srtPort),
          SRT_BIND: '127.0.0.1',
          SRT_LATENCY_MS: '300',
          SRT_STREAM_KEY: KEY,
          INGEST_OUTPUT_PORT: String(outputPort),
          INGEST_RELAY_PORT: String(await freeUdpPort()),
          SRTLA_PORT: String(srtlaPort),
          SRTLA_BIND: '127.0.0.1',
        },
      }),
      bus,
      log: createLogger('ingest', 'silent'),
    });
    await ingest.start();
    reader = startFeedReader(outputPort);
  }, 60_000);

  afterAll(async () => {
    await reader?.stop();
    await ingest?.stop();
    await bus?.closeConnection();
    await observer?.closeConnection();
    await nats?.stop();
  });

  it.each([`publish/live/${KEY}`, `live_${KEY}`, `publish:${KEY}`, `#!::r=${KEY},m=publish`, KEY])(
    'publishes with %s, shown in ingest.stats',
    async (streamId) => {
      const feed = startSrtFeed({ port: srtPort, bitrateKbps: 800, latencyMs: 300, width: 320, height: 180, streamId });
      try {
        const stats = await nextEvent(observer, 'ingest.stats', (s) => s.connected && s.streamId === streamId, `the feed with stream id ${streamId}`, 20_000);
        expect(stats.bitrateKbps).toBeGreaterThan(0);
      } finally {
        await feed.stop();
      }
      await nextEvent(observer, 'ingest.stats', (s) => !s.connected, 'the feed to end', 20_000);
    },
  );

  it.each([
    ['publish/live/wrong-key', /wrong stream key/],
    [undefined, /no stream id/],
  ])('refuses %s with the reason on ingest.link and the timeline', async (streamId, reason) => {
    const rejected = await armEvent(observer, 'ingest.link', (l) => l.event === 'rejected', 'the rejection', 20_000);
    const logged = await armEvent(observer, 'log', (l) => l.source === 'ingest' && /Refused SRT sender/.test(l.message), 'the timeline entry', 20_000);
    let connected = false;
    const stopWatching = observer.subscribe('ingest.stats', (s) => {
      if (s.connected) connected = true;
    });
    const feed = startSrtFeed({ port: srtPort, bitrateKbps: 800, latencyMs: 300, width: 320, height: 180, ...(streamId ? { streamId } : {}) });
    try {
      expect((await rejected.next).reason).toMatch(reason);
      expect((await logged.next).message).toMatch(reason);
      await new Promise((r) => setTimeout(r, 1500));
      expect(connected).toBe(false);
    } finally {
      stopWatching();
      await feed.stop();
    }
  });
  it('refuses a bonded (SRTLA) sender with a wrong stream id, and takes one with the key', async () => {
    const rejected = await armEvent(observer, 'ingest.link', (l) => l.event === 'rejected' && /bonded sender/.test(l.reason), 'the bonded rejection', 20_000);
    const wrongSender = await startSrtlaSender({ host: '127.0.0.1', port: srtlaPort }, 2);
    const wrong = startSrtFeed({ port: wrongSender.port, bitrateKbps: 800, latencyMs: 300, width: 320, height: 180, streamId: 'live_not-the-key' });
    try {
      expect((await rejected.next).reason).toMatch(/wrong stream key/);
    } finally {
      await wrong.stop();
      await wrongSender.stop();
    }
    const rightSender = await startSrtlaSender({ host: '127.0.0.1', port: srtlaPort }, 2);
    const right = startSrtFeed({ port: rightSender.port, bitrateKbps: 800, latencyMs: 300, width: 320, height: 180, streamId: `live_${KEY}` });
    try {
      await nextEvent(observer, 'ingest.stats', (s) => s.connected && s.bitrateKbps > 0, 'the bonded feed with the key', 20_000);
    } finally {
      await right.stop();
      await rightSender.stop();
    }
  });
});
