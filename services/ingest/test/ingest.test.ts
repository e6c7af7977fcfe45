// Ingest on real ffmpeg, srt-live-transmit and nats-server: stats, stall/disconnect, passphrase, relay restarts.
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@irlkit/shared';
import {
  armEvent,
  collectEvents,
  freeTcpPort,
  freeUdpPort,
  nextEvent,
  startFeedReader,
  startNats,
  startReconnectingFeed,
  startSrtFeed,
  type TestNats,
  testBus,
  waitFor,
} from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type IngestApp } from '../src/app.ts';
import { type IngestConfig, ingestConfig } from '../src/config.ts';

let nats: TestNats;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats?.stop();
});

async function startIngest(extra: Record<string, string> = {}) {
  const bus = await testBus(nats, 'main', 'ingest');
  const srtPort = await freeUdpPort();
  const outputPort = await freeTcpPort();
  const relayPort = await freeUdpPort();
  const config: IngestConfig = ingestConfig.load({
    envFile: false,
    source: {
      NATS_URL: nats.url,
      SRT_PORT: String(srtPort),
      SRT_BIND: '127.0.0.1',
      INGEST_OUTPUT_PORT: String(outputPort),
      INGEST_RELAY_PORT: String(relayPort),
      SRT_LATENCY_MS: '500',
      SRTLA_PORT: '0',
      ...extra,
    },
  });
  const app: IngestApp = buildApp({ config, bus, log: createLogger('ingest-test', process.env.TEST_LOG ?? 'warn') });
  await app.start();
  const reader = startFeedReader(outputPort);
  return {
    app,
    bus,
    srtPort,
    stop: async () => {
      await reader.stop();
      await app.stop();
      await bus.closeConnection();
    },
  };
}

function udpSocket(): Promise<Socket> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket)));
}

describe('ingest', () => {
  it('publishes stats at 4 Hz or more with the sent bitrate and an RTT', async () => {
    const ingest = await startIngest();
    const observer = await testBus(nats);
    const feed = startSrtFeed({ port: ingest.srtPort, bitrateKbps: 2500, latencyMs: 500 });
    try {
      await nextEvent(observer, 'ingest.link', (e) => e.event === 'connected', 'the feed to connect', 15_000);
      await new Promise((r) => setTimeout(r, 2000)); // let the encoder settle at its rate
      const stats = collectEvents(observer, 'ingest.stats');
      await new Promise((r) => setTimeout(r, 3000));
      stats.stop();
      const rate = stats.items.length / 3;
      expect(rate).toBeGreaterThanOrEqual(4);
      const connected = stats.items.filter((s) => s.connected);
      const bitrates = connected.map((s) => s.bitrateKbps).sort((a, b) => a - b);
      const median = bitrates[Math.floor(bitrates.length / 2)] as number;
      // What ffmpeg sends: 2500 kbit/s video + 128 kbit/s audio, plus MPEG-TS and SRT overhead
      // (counted by ingest as payload bytes after the SRT header) of about 5-8 %.
      const sentKbps = (2500 + 128) * 1.065;
      expect(median).toBeGreaterThan(sentKbps * 0.8);
      expect(median).toBeLessThan(sentKbps * 1.2);
      expect(connected.some((s) => s.rttMs !== null)).toBe(true);
      expect(connected.at(-1)?.peer).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(connected.at(-1)?.totals.received).toBeGreaterThan(100);
    } finally {
      await feed.stop();
      await observer.closeConnection();
      await ingest.stop();
    }
  });

  it('reports a killed sender as stalled within the stall timeout, then disconnected, then connected again', async () => {
    const ingest = await startIngest({ INGEST_DISCONNECT_TIMEOUT_MS: '3000' });
    const observer = await testBus(nats);
    let feed = startSrtFeed({ port: ingest.srtPort, bitrateKbps: 1500, latencyMs: 500 });
    try {
      await nextEvent(observer, 'ingest.link', (e) => e.event === 'connected', 'the feed to connect', 15_000);
      await new Promise((r) => setTimeout(r, 1000));
      const stalled = await armEvent(observer, 'ingest.link', (e) => e.event === 'stalled', 'stalled after kill -9', 5000);
      const disconnected = await armEvent(observer, 'ingest.link', (e) => e.event === 'disconnected', 'disconnected after kill -9', 15_000);
      await feed.kill9();
      const killedAt = Date.now();
      const stall = await stalled.next;
      expect(stall.lastPacketTs).not.toBeNull();
      // Exact measurement lives in the benchmark; here a generous bound.
      expect(stall.ts - (stall.lastPacketTs as number)).toBeLessThan(700);
      expect(stall.receivedAt - killedAt).toBeLessThan(1500);
      await disconnected.next;
      const stats = await nextEvent(observer, 'ingest.stats', (s) => !s.connected, 'disconnected stats');
      expect(stats.connected).toBe(false);

      const reconnected = await armEvent(observer, 'ingest.link', (e) => e.event === 'connected', 'reconnect', 15_000);
      feed = startSrtFeed({ port: ingest.srtPort, bitrateKbps: 1500, latencyMs: 500 });
      await reconnected.next;
      await nextEvent(observer, 'ingest.stats', (s) => s.connected && s.bitrateKbps > 500, 'stats of the returned feed');
    } finally {
      await feed.stop();
      await observer.closeConnection();
      await ingest.stop();
    }
  });

  it('ignores strangers on the SRT port: forged shutdowns, junk that looks like data, slot squatters', async () => {
    const ingest = await startIngest({ SRT_MAX_PEERS: '2', INGEST_DISCONNECT_TIMEOUT_MS: '3000' });
    const observer = await testBus(nats);
    const links = collectEvents(observer, 'ingest.link');
    const heartbeats = collectEvents(observer, 'heartbeat');
    const strangers = await Promise.all([0, 1, 2, 3].map(() => udpSocket()));
    const header = (first: number, second: number) => {
      const packet = Buffer.alloc(64);
      packet[0] = first;
      packet[1] = second;
      return packet;
    };
    const blast = (packet: Buffer) => {
      for (const socket of strangers) socket.send(packet, ingest.srtPort, '127.0.0.1');
    };
    // Squatters: two of them open with a handshake-looking packet and take both slots before the streamer comes.
    strangers[0]?.send(header(0x80, 0x00), ingest.srtPort, '127.0.0.1');
    strangers[1]?.send(header(0x80, 0x00), ingest.srtPort, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 2500));
    // The streamer calls again when a call fails, as a phone does: what is tested is that the squatters' slots
    // are taken back, not that ffmpeg's first call (it gives up after 3 s) is the one that gets in.
    const feed = startReconnectingFeed({ port: ingest.srtPort, bitrateKbps: 1500, latencyMs: 500 });
    try {
      await nextEvent(observer, 'ingest.link', (e) => e.event === 'connected', 'the streamer to get in past the squatters', 15_000).catch((error: Error) => {
        // Seen failing in 2 full-suite runs, never on its own: say what the door and the sender saw.
        const door = heartbeats.items.filter((h) => h.service === 'ingest').at(-1)?.detail;
        throw new Error(
          `${error.message}; ingest.link: ${JSON.stringify(links.items.map((e) => e.event))}; door: ${JSON.stringify(door)}; sender said: ${feed.current().stderr().slice(-500)}`,
        );
      });
      await new Promise((r) => setTimeout(r, 500));
      // A forged SRT shutdown and a burst of data-looking junk from other ports change nothing.
      blast(header(0x80, 0x05));
      blast(header(0x00, 0x01));
      await new Promise((r) => setTimeout(r, 1500));
      expect(links.items.map((e) => e.event)).toEqual(['connected']);
      // The streamer dies while junk keeps coming: the stall is still reported.
      const junk = setInterval(() => blast(header(0x00, 0x01)), 20);
      try {
        const stalled = await armEvent(observer, 'ingest.link', (e) => e.event === 'stalled', 'stalled despite the junk', 5000);
        await feed.kill9();
        await stalled.next;
      } finally {
        clearInterval(junk);
      }
      const heartbeat = await nextEvent(
        observer,
        'heartbeat',
        (h) => h.service === 'ingest' && Number(h.detail.foreignDatagrams) > 0,
        'counted foreign datagrams',
        5000,
      );
      expect(Number(heartbeat.detail.droppedNotHandshake)).toBeGreaterThan(0);
      // Like a phone, the returning sender retries until srt-live-transmit has let go of the dead connection.
      const returning = startReconnectingFeed({ port: ingest.srtPort, bitrateKbps: 1500, latencyMs: 500 });
      try {
        await nextEvent(observer, 'ingest.link', (e) => e.event === 'connected', 'the streamer to come back', 20_000);
      } finally {
        await returning.stop();
      }
    } finally {
      for (const socket of strangers) socket.close();
      await feed.stop();
      await observer.closeConnection();
      await ingest.stop();
    }
  });

  it('refuses a wrong passphrase, says so with the peer, and serves the right one even with spaces, % and + in it', async () => {
    // srt-live-transmit decodes nothing in its URI: percent-encoding these would make every sender "wrong".
    const passphrase = 'correct horse 100%+battery';
    const ingest = await startIngest({ SRT_PASSPHRASE: passphrase });
    const observer = await testBus(nats);
    const log = collectEvents(observer, 'log');
    const wrong = startSrtFeed({ port: ingest.srtPort, passphrase: 'wrong-passphrase-1', latencyMs: 500 });
    let right: ReturnType<typeof startSrtFeed> | undefined;
    try {
      const rejected = await nextEvent(observer, 'ingest.link', (e) => e.event === 'rejected', 'a rejection', 15_000);
      expect(rejected.reason).toMatch(/passphrase/i);
      expect(rejected.peer).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(await wrong.exited).not.toBe(0);
      await waitFor(() => log.items.some((e) => /Rejected SRT connection/.test(e.message)), 'a timeline entry for the rejection');

      const connected = await armEvent(observer, 'ingest.link', (e) => e.event === 'connected', 'the right passphrase to connect', 15_000);
      right = startSrtFeed({ port: ingest.srtPort, passphrase, latencyMs: 500 });
      await connected.next;
      await nextEvent(observer, 'ingest.stats', (s) => s.connected && s.bitrateKbps > 500, 'stats with the right passphrase');
    } finally {
      log.stop();
      await wrong.stop();
      await right?.stop();
      await observer.closeConnection();
      await ingest.stop();
    }
  });

  it('restarts a killed srt-live-transmit within 1 s; the sender reconnects and stats resume', async () => {
    const ingest = await startIngest();
    const observer = await testBus(nats);
    const feed = startReconnectingFeed({ port: ingest.srtPort, bitrateKbps: 1500, latencyMs: 500 });
    try {
      await nextEvent(observer, 'ingest.link', (e) => e.event === 'connected', 'the feed to connect', 15_000);
      const exited = await armEvent(observer, 'process', (e) => e.child === 'srt-live-transmit' && e.event === 'exited', 'the exit event');
      const started = await armEvent(observer, 'process', (e) => e.child === 'srt-live-transmit' && e.event === 'started', 'the restart');
      const pid = ingest.app.transmit.pid as number;
      process.kill(pid, 'SIGKILL');
      const killedAt = Date.now();
      expect((await exited.next).exitCode).toBeNull();
      const restart = await started.next;
      expect(restart.pid).not.toBe(pid);
      expect(restart.receivedAt - killedAt).toBeLessThan(1000);
      await nextEvent(observer, 'ingest.link', (e) => e.event === 'connected', 'the sender to reconnect', 20_000);
      await nextEvent(observer, 'ingest.stats', (s) => s.connected && s.bitrateKbps > 500, 'stats after the restart');
    } finally {
      await feed.stop();
      await observer.closeConnection();
      await ingest.stop();
    }
  });

  it('names the variable when configuration is bad', () => {
    expect(() => ingestConfig.load({ envFile: false, source: { SRT_PORT: '70000' } })).toThrow(/SRT_PORT/);
    expect(() => ingestConfig.load({ envFile: false, source: { SRT_PASSPHRASE: 'short' } })).toThrow(/SRT_PASSPHRASE: must be 10 to 79/);
    expect(() => ingestConfig.load({ envFile: false, source: { SRT_PASSPHRASE: 'salt&pepper-secret' } })).toThrow(/SRT_PASSPHRASE: must not contain '&'/);
    expect(() => ingestConfig.load({ envFile: false, source: { SRT_PASSPHRASE: 'line\nbreak-secret' } })).toThrow(
      /SRT_PASSPHRASE: must not contain control characters/,
    );
    expect(() => ingestConfig.load({ envFile: false, source: { NODE_ENV: 'production' } })).toThrow(/SRT_PASSPHRASE: must be set in production/);
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const run = spawnSync('npx', ['tsx', main], { env: { ...process.env, SRT_PORT: 'abc', IRL_ENV_FILE: '/nonexistent' }, encoding: 'utf8' });
    expect(run.status).toBe(78);
    expect(run.stderr).toMatch(/SRT_PORT: .*(number|whole)/);
  });
});
