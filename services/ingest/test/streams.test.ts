// Several streams through the shared SRT and SRTLA doors: each real ffmpeg sender (plain or bonded) is routed by the key in its stream id to its
// own stream's srt-live-transmit (a reader on that stream's output decodes it) and reported on that stream's
// subjects; one sender dying touches no other stream. Also: the listener's cookie carried across, the list's validation.
import { createSocket, type Socket } from 'node:dgram';
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
  waitFor,
} from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { ingestConfig } from '../src/config.ts';
import { SrtRelay } from '../src/srt/relay.ts';
import { routeStreamId } from '../src/srt/stream-id.ts';

let nats: TestNats;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats?.stop();
});

const STREAMS = [
  { id: 'alice', srtKey: 'alice-key-1234' },
  { id: 'bob', srtKey: 'bob-key-5678' },
];

describe('the stream list', () => {
  const load = (source: Record<string, string>) => ingestConfig.load({ envFile: false, source });

  it('defaults to the one stream of IRL_STREAM_ID and SRT_STREAM_KEY, on the single-stream ports', () => {
    const config = load({ IRL_STREAM_ID: 'solo', SRT_STREAM_KEY: 'k1', INGEST_RELAY_PORT: '7002', INGEST_OUTPUT_PORT: '7001' });
    expect(config.streams).toEqual([{ id: 'solo', srtKey: 'k1', rtmp: undefined, slot: 0, relayPort: 7002, outputPort: 7001 }]);
  });

  it('gives each listed stream its own ports unless it names them', () => {
    const config = load({ IRL_STREAMS: JSON.stringify([...STREAMS, { id: 'carol', srtKey: 'c-key', relayPort: 9100, outputPort: 9101 }]) });
    expect(config.streams.map((s) => [s.id, s.relayPort, s.outputPort])).toEqual([
      ['alice', 9002, 9001],
      ['bob', 9004, 9003],
      ['carol', 9100, 9101],
    ]);
  });

  it.each([
    ['[{"id":"alice"}]', /IRL_STREAMS: stream 1 srtKey/],
    ['[{"id":"a b","srtKey":"k"}]', /stream 1 id: must be 1-64 characters/],
    ['[{"id":"a","srtKey":"k"},{"id":"a","srtKey":"j"}]', /stream 2 id: stream id "a" is used twice/],
    ['[{"id":"a","srtKey":"k"},{"id":"b","srtKey":"k"}]', /stream 2 srtKey: SRT key "…" is used twice/],
    ['[{"id":"a","srtKey":"k","passphrase":"x"}]', /stream 1: Unrecognized key/],
    ['[]', /must name at least one stream/],
    ['[{"id":', /not valid JSON/],
    ['/nonexistent/streams.json', /cannot read the file \/nonexistent\/streams.json: ENOENT/],
  ])('refuses %s naming the problem', (value, message) => {
    expect(() => load({ IRL_STREAMS: value })).toThrow(message);
  });

  it('refuses SRT_STREAM_KEY beside a list (each stream has its key)', () => {
    expect(() => load({ IRL_STREAMS: JSON.stringify(STREAMS), SRT_STREAM_KEY: 'k1' })).toThrow(/SRT_STREAM_KEY: set each stream's "srtKey"/);
  });

  it('routes by the key in any stream id convention, and refuses a missing, unknown or reading one', () => {
    expect(routeStreamId('live_alice-key-1234', STREAMS)).toEqual({ stream: 'alice' });
    expect(routeStreamId('publish/live/bob-key-5678', STREAMS)).toEqual({ stream: 'bob' });
    expect(routeStreamId('#!::r=bob-key-5678,m=publish', STREAMS)).toEqual({ stream: 'bob' });
    expect(routeStreamId('', STREAMS)).toEqual({ refused: 'no stream id sent (each stream has a key)' });
    expect(routeStreamId('play_bob-key-5678', STREAMS)).toEqual({ refused: expect.stringContaining('asks to read') });
    const unknown = routeStreamId('live_mallory-key', STREAMS) as { refused: string };
    expect(unknown.refused).toMatch(/^no stream has the key/);
    expect(unknown.refused).not.toContain('mallory-key');
    // One stream without a key takes anyone, as before the list.
    expect(routeStreamId('whatever', [{ id: 'main', srtKey: undefined }])).toEqual({ stream: 'main' });
  });
});

/** An SRT handshake: induction (type 1) or conclusion (type -1) with a cookie and, for a conclusion, a stream id. */
function handshake(type: 'induction' | 'conclusion', cookie: number, streamId?: string): Buffer {
  const sid = streamId ? Buffer.from(streamId.padEnd(Math.ceil(streamId.length / 4) * 4, '\0')) : Buffer.alloc(0);
  const packet = Buffer.alloc(16 + 48 + (sid.length ? 4 + sid.length : 0));
  packet.writeUInt16BE(0x8000, 0);
  packet.writeUInt32BE(type === 'induction' ? 1 : 0xffffffff, 16 + 20);
  packet.writeUInt32BE(cookie, 16 + 28);
  if (sid.length) {
    packet.writeUInt16BE(5, 64);
    packet.writeUInt16BE(sid.length / 4, 66);
    // SRT writes each 32-bit word of the id byte-reversed.
    for (let w = 0; w < sid.length; w += 4) for (let b = 0; b < 4; b++) packet[68 + w + b] = sid[w + 3 - b] as number;
  }
  return packet;
}

async function udp(onMessage: (msg: Buffer, port: number, socket: Socket) => void = () => {}): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => onMessage(msg, rinfo.port, socket));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return socket;
}

describe('one SRT door, several listeners', () => {
  // Listeners that bake different cookies, as two srt-live-transmit started at different times do; one that
  // already serves a sender stays silent (srt-live-transmit closes its listener while it has one).
  it.each([
    ["alice's listener answers first: bob's cookie replaces hers", 0, 30, 0xaaaa0001],
    ["alice's listener is busy (silent): bob's answer reaches the sender", null, 0, 0xbbbb0002],
  ])("asks every listener at the induction and brings the named stream's cookie to the conclusion; %s", async (_case, aliceDelayMs, bobDelayMs, answered) => {
    const seen: Record<string, Buffer[]> = { alice: [], bob: [] };
    const listener = (name: 'alice' | 'bob', cookie: number, delayMs: number | null) =>
      udp((msg, port, socket) => {
        seen[name]?.push(msg);
        if (msg.readUInt32BE(16 + 20) === 1 && delayMs !== null) setTimeout(() => socket.send(handshake('induction', cookie), port, '127.0.0.1'), delayMs);
      });
    const alice = await listener('alice', 0xaaaa0001, aliceDelayMs);
    const bob = await listener('bob', 0xbbbb0002, bobDelayMs);
    const port = await freeUdpPort();
    const routes = STREAMS.map((s) => ({ id: s.id, srtKey: s.srtKey }));
    const relay = new SrtRelay({
      bindHost: '127.0.0.1',
      port,
      listeners: [
        { stream: 'alice', host: '127.0.0.1', port: alice.address().port },
        { stream: 'bob', host: '127.0.0.1', port: bob.address().port },
      ],
      maxPeers: 4,
      peerIdleMs: 10_000,
      socketBufferBytes: 1 << 20,
      log: createLogger('relay-test', 'silent'),
      onDatagram: () => {},
      onShutdown: () => {},
      isAcceptedSource: () => false,
      onListenerAnswer: () => {},
      onConnectionRequest: () => {},
      route: (sid) => routeStreamId(sid, routes),
      onRefused: () => {},
    });
    await relay.start();
    const answers: Buffer[] = [];
    const caller = await udp((msg) => answers.push(msg));
    try {
      caller.send(handshake('induction', 0), port, '127.0.0.1');
      await waitFor(() => answers.length >= 1 && seen.bob?.length === 1, 'the induction answered', 3000);
      await new Promise((r) => setTimeout(r, 150));
      // Both listeners got the induction; the caller got one answer only: the first.
      expect(seen.alice).toHaveLength(1);
      expect(answers).toHaveLength(1);
      expect(answers[0]?.readUInt32BE(16 + 28)).toBe(answered);
      caller.send(handshake('conclusion', answered, 'live_bob-key-5678'), port, '127.0.0.1');
      await waitFor(() => seen.bob?.length === 2, "the conclusion at bob's listener", 3000);
      expect(seen.bob?.[1]?.readUInt32BE(16 + 28)).toBe(0xbbbb0002);
      expect(seen.alice).toHaveLength(1);
      // From now on the sender is bob's: its data goes there only.
      const data = Buffer.alloc(100);
      caller.send(data, port, '127.0.0.1');
      await waitFor(() => seen.bob?.length === 3, "the data at bob's listener", 3000);
      expect(seen.alice).toHaveLength(1);
    } finally {
      caller.close();
      alice.close();
      bob.close();
      await relay.stop();
    }
  });
});

describe('two streams through the shared doors, real senders', () => {
  it("routes a plain and a bonded sender to their streams' outputs and subjects; killing one leaves the other live", async () => {
    const bus = await testBus(nats, 'alice', 'ingest');
    const srtPort = await freeUdpPort();
    const srtlaPort = await freeUdpPort();
    const streams = await Promise.all(STREAMS.map(async (s) => ({ ...s, relayPort: await freeUdpPort(), outputPort: await freeTcpPort() })));
    const config = ingestConfig.load({
      envFile: false,
      source: {
        NATS_URL: nats.url,
        SRT_PORT: String(srtPort),
        SRT_BIND: '127.0.0.1',
        SRT_LATENCY_MS: '500',
        SRTLA_PORT: String(srtlaPort),
        SRTLA_BIND: '127.0.0.1',
        IRL_STREAMS: JSON.stringify(streams),
      },
    });
    const app = buildApp({ config, bus, log: createLogger('ingest-test', process.env.TEST_LOG ?? 'warn') });
    await app.start();
    const readers = streams.map((s) => startFeedReader(s.outputPort));
    const watchAlice = await testBus(nats, 'alice');
    const watchBob = await testBus(nats, 'bob');
    const refused = await armEvent(watchAlice, 'ingest.link', (e) => e.event === 'rejected', 'the intruder refused (on the first stream)', 15_000);
    const aliceFeed = startSrtFeed({ port: srtPort, bitrateKbps: 800, latencyMs: 500, width: 320, height: 240, streamId: 'live_alice-key-1234' });
    const intruder = startSrtFeed({ port: srtPort, bitrateKbps: 300, latencyMs: 500, width: 160, height: 120, streamId: 'live_mallory' });
    let bobFeed: ReturnType<typeof startSrtFeed> | undefined;
    let bonding: Awaited<ReturnType<typeof startSrtlaSender>> | undefined;
    try {
      await nextEvent(watchAlice, 'ingest.stats', (s) => s.connected && s.bitrateKbps > 50, "alice's feed on alice's subjects", 15_000);
      // Bob comes while alice is live: her srt-live-transmit, busy with her, answers no handshake; his does.
      // Bob bonds two links over SRTLA: his group goes where his SRT handshake's key says.
      bonding = await startSrtlaSender({ host: '127.0.0.1', port: srtlaPort }, 2);
      bobFeed = startSrtFeed({ port: bonding.port, bitrateKbps: 1600, latencyMs: 500, width: 320, height: 240, streamId: 'publish/live/bob-key-5678' });
      await nextEvent(watchBob, 'ingest.stats', (s) => s.connected && s.bitrateKbps > 50, "bob's feed on bob's subjects (while alice is live)", 15_000);
      expect((await refused.next).reason).toMatch(/no stream has the key/);
      const aliceStats = await nextEvent(watchAlice, 'ingest.stats', (s) => s.connected, 'alice stats');
      const bobStats = await nextEvent(watchBob, 'ingest.stats', (s) => s.connected, 'bob stats');
      expect(aliceStats.streamId).toBe('live_alice-key-1234');
      expect(aliceStats.peer).toMatch(/^127\.0\.0\.1:/);
      expect(bobStats.peer).toMatch(/^SRTLA group/);
      await waitFor(() => readers.every((r) => r.frames() > 50), 'both outputs decoding frames', 20_000);

      const bobGone = armEvent(watchBob, 'ingest.link', (e) => e.event === 'disconnected', "bob's feed disconnected after kill -9", 15_000);
      const aliceHiccup = armEvent(watchAlice, 'ingest.link', (e) => e.event !== 'connected', 'anything but connected on alice', 8000);
      await bobFeed?.kill9();
      await (await bobGone).next;
      const aliceFramesBefore = readers[0]?.frames() ?? 0;
      // Alice saw nothing of it and keeps flowing.
      await expect((await aliceHiccup).next).rejects.toThrow();
      expect(readers[0]?.frames()).toBeGreaterThan(aliceFramesBefore);
      const stillLive = await nextEvent(watchAlice, 'ingest.stats', (s) => s.connected, 'alice still connected');
      expect(stillLive.bitrateKbps).toBeGreaterThan(50);
    } finally {
      await Promise.all([aliceFeed.stop(), bobFeed?.stop(), intruder.stop()]);
      await bonding?.stop();
      await Promise.all(readers.map((r) => r.stop()));
      await watchAlice.closeConnection();
      await watchBob.closeConnection();
      await app.stop();
      await bus.closeConnection();
    }
  });
});
