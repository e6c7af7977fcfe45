// The feed doors under attack, on real ffmpeg, srt-live-transmit and nats-server: an SRTLA squatter
// holding every group slot from one address, and an SRT handshake flood racing the real sender.
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { createLogger } from '@irlkit/shared';
import {
  armEvent,
  freeTcpPort,
  freeUdpPort,
  nextEvent,
  startFeedReader,
  startNats,
  startReconnectingFeed,
  startSrtFeed,
  startSrtlaSender,
  type TestNats,
  testBus,
} from '@irlkit/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { ingestConfig } from '../src/config.ts';

let nats: TestNats;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats?.stop();
});

async function startIngest(streamId: string, extra: Record<string, string>) {
  const bus = await testBus(nats, streamId, 'ingest');
  const observer = await testBus(nats, streamId);
  const outputPort = await freeTcpPort();
  const srtPort = await freeUdpPort();
  const config = ingestConfig.load({
    envFile: false,
    source: {
      NATS_URL: nats.url,
      IRL_STREAM_ID: streamId,
      SRT_PORT: String(srtPort),
      SRT_BIND: '127.0.0.1',
      SRTLA_BIND: '127.0.0.1',
      INGEST_OUTPUT_PORT: String(outputPort),
      INGEST_RELAY_PORT: String(await freeUdpPort()),
      SRT_LATENCY_MS: '500',
      ...extra,
    },
  });
  const app = buildApp({ config, bus, log: createLogger('ingest-doors', process.env.TEST_LOG ?? 'warn') });
  await app.start();
  const reader = startFeedReader(outputPort);
  return {
    app,
    observer,
    srtPort,
    stop: async () => {
      await reader.stop();
      await app.stop();
      await bus.closeConnection();
      await observer.closeConnection();
    },
  };
}

function bindUdp(address: string): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.on('error', () => {});
  return new Promise((resolve) => socket.bind(0, address, () => resolve(socket)));
}

function registration(type: number, id: Buffer): Buffer {
  const packet = Buffer.alloc(258);
  packet.writeUInt16BE(type);
  id.copy(packet, 2);
  return packet;
}

/**
 * An SRTLA squatter from one address: `groups` links that each register a group of their own and keep
 * it alive with keepalives (registering again whenever the receiver stops echoing), plus a socket
 * sending `reg1PerSecond` REG1s with fresh ids. It never speaks SRT.
 */
async function startSquatter(target: { host: string; port: number }, address: string, groups: number, reg1PerSecond: number) {
  const links = await Promise.all(Array.from({ length: groups }, async () => ({ socket: await bindUdp(address), registered: false, lastEcho: 0 })));
  for (const link of links) {
    link.socket.on('message', (msg) => {
      const type = msg.length >= 2 ? msg.readUInt16BE(0) : -1;
      if (type === 0x9201 && msg.length >= 258) link.socket.send(registration(0x9201, msg.subarray(2, 258)), target.port, target.host);
      else if (type === 0x9202) {
        link.registered = true;
        link.lastEcho = Date.now();
      } else if (type === 0x9000) link.lastEcho = Date.now();
    });
  }
  const keepAlive = () => {
    for (const link of links) {
      if (link.registered && Date.now() - link.lastEcho > 1500) link.registered = false;
      if (link.registered) link.socket.send(Buffer.from([0x90, 0x00]), target.port, target.host);
      else link.socket.send(registration(0x9200, randomBytes(256)), target.port, target.host);
    }
  };
  keepAlive();
  const keepAliveTimer = setInterval(keepAlive, 500);
  const flooder = await bindUdp(address);
  const floodTimer = setInterval(() => flooder.send(registration(0x9200, randomBytes(256)), target.port, target.host), 1000 / reg1PerSecond);
  return {
    held: () => links.filter((l) => l.registered).length,
    stop: async () => {
      clearInterval(keepAliveTimer);
      clearInterval(floodTimer);
      for (const socket of [flooder, ...links.map((l) => l.socket)]) await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

/** An SRT induction handshake (version 4, as every caller opens), with a fresh socket id. */
function inductionHandshake(): Buffer {
  const packet = Buffer.alloc(64);
  packet.writeUInt16BE(0x8000, 0); // control: handshake
  packet.writeUInt32BE(Date.now() % 0xffffffff, 8);
  packet.writeUInt32BE(4, 16); // version
  packet.writeUInt16BE(2, 22); // datagram socket
  packet.writeUInt32BE(randomBytes(4).readUInt32BE() & 0x7fffffff, 24); // initial sequence
  packet.writeUInt32BE(1500, 28); // MSS
  packet.writeUInt32BE(8192, 32); // flow window
  packet.writeInt32BE(1, 36); // induction
  packet.writeUInt32BE(randomBytes(4).readUInt32BE() & 0x3fffffff, 40); // socket id
  return packet;
}

it('lets a real bonded sender in within 10 s while a squatter holds every group slot from one address', async () => {
  const srtlaPort = await freeUdpPort();
  const ingest = await startIngest('squat', { SRTLA_PORT: String(srtlaPort) });
  const squatter = await startSquatter({ host: '127.0.0.1', port: srtlaPort }, '127.0.0.2', 4, 20);
  let sender: Awaited<ReturnType<typeof startSrtlaSender>> | undefined;
  let feed: ReturnType<typeof startReconnectingFeed> | undefined;
  try {
    // The squatter registers and keeps its groups alive before the streamer comes.
    await new Promise((r) => setTimeout(r, 2000));
    const connected = await armEvent(ingest.observer, 'ingest.link', (e) => e.event === 'connected', 'the real sender to connect past the squatter', 10_000);
    const startedAt = Date.now();
    sender = await startSrtlaSender({ host: '127.0.0.1', port: srtlaPort }, 1, { addresses: ['127.0.0.3'], keepalive: 'belabox', registerTimeoutMs: 8000 });
    feed = startReconnectingFeed({ port: sender.port, bitrateKbps: 1000, latencyMs: 500 });
    const link = await connected.next;
    expect(link.receivedAt - startedAt).toBeLessThan(10_000);
    const stats = await nextEvent(ingest.observer, 'ingest.stats', (s) => s.connected && s.bitrateKbps > 300, 'the bonded feed to carry data', 5000);
    expect(stats.connected).toBe(true);
    const table = ingest.app.srtla?.stats();
    expect(table?.links.some((l) => l.address.startsWith('127.0.0.3:'))).toBe(true);
    expect(table?.drops.too_many_groups_from_address).toBeGreaterThan(0);
  } finally {
    await feed?.stop();
    await sender?.stop();
    await squatter.stop();
    await ingest.stop();
  }
});

it('takes the real sender as the accepted one under a handshake flood of 500/s, and sees its death within 1 s', async () => {
  const ingest = await startIngest('flood', { SRTLA_PORT: '0' });
  const flooders = await Promise.all([0, 1, 2, 3].map(() => bindUdp('127.0.0.2')));
  let sent = 0;
  // 500 induction handshakes a second from four ports of 127.0.0.2: srt-live-transmit logs each as a
  // connection request, interleaved with the real sender's.
  const floodStart = Date.now();
  const flood = setInterval(() => {
    // Evenly spread: catch up to 500 per second of flood so far (timers are not exact).
    while (sent < ((Date.now() - floodStart) * 500) / 1000)
      (flooders[sent++ % flooders.length] as Socket).send(inductionHandshake(), ingest.srtPort, '127.0.0.1');
  }, 2);
  const feed = startSrtFeed({ port: ingest.srtPort, bitrateKbps: 1500, latencyMs: 500 });
  try {
    const link = await nextEvent(ingest.observer, 'ingest.link', (e) => e.event === 'connected', 'the real sender to connect during the flood', 15_000);
    expect(link.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    await nextEvent(
      ingest.observer,
      'ingest.stats',
      (s) => s.connected && s.bitrateKbps > 500 && s.peer?.startsWith('127.0.0.1:') === true,
      'stats of the real sender',
      5000,
    );
    const stalled = await armEvent(
      ingest.observer,
      'ingest.link',
      (e) => e.event === 'stalled' || e.event === 'disconnected',
      'the death of the real sender',
      5000,
    );
    await feed.kill9();
    const killedAt = Date.now();
    const death = await stalled.next;
    expect(death.receivedAt - killedAt).toBeLessThan(1000);
    expect(sent / ((Date.now() - floodStart) / 1000)).toBeGreaterThan(450);
  } finally {
    clearInterval(flood);
    await feed.stop();
    for (const socket of flooders) socket.close();
    await ingest.stop();
  }
});
