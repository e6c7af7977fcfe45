// SRTLA under stress: the SRT listener restarting under a bonded stream, and 100 000 random and
// mutated datagrams at the port while a legitimate stream goes on.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { collectEvents, nextEvent, startFeedReader, startNats, startReconnectingFeed, startSrtlaSender, type TestNats } from '@irlkit/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestIngest } from './test-ingest.ts';

/** Datagrams the kernel dropped for a full receive buffer, in this network namespace (IPv4 and IPv6). */
function udpReceiveBufferErrors(): number {
  const snmp = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const names = (snmp[0] ?? '').split(/\s+/);
  const values = (snmp[1] ?? '').split(/\s+/);
  const v4 = Number(values[names.indexOf('RcvbufErrors')] ?? 0);
  const v6 = Number(/Udp6RcvbufErrors\s+(\d+)/.exec(readFileSync('/proc/net/snmp6', 'utf8'))?.[1] ?? 0);
  return v4 + v6;
}

let nats: TestNats;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats?.stop();
});

async function bondedIngest(streamId: string) {
  const ingest = await startTestIngest(nats, {
    streamId,
    latencyMs: 1000,
    env: { SRTLA_REGISTRATIONS_PER_SECOND: '1000' },
    logLevel: process.env.TEST_LOG ?? 'error',
  });
  const { app, observer, srtlaPort, outputPort } = ingest;
  const reader = startFeedReader(outputPort);
  const sender = await startSrtlaSender({ host: '127.0.0.1', port: srtlaPort }, 2);
  const feed = startReconnectingFeed({ port: sender.port, bitrateKbps: 1500, latencyMs: 1000 });
  return {
    app,
    observer,
    sender,
    srtlaPort,
    reader,
    stop: async () => {
      await feed.stop();
      await sender.stop();
      await reader.stop();
      await ingest.stop();
    },
  };
}

it('keeps the group when srt-live-transmit restarts: the sender is told at once, and traffic resumes without registering again', async () => {
  const run = await bondedIngest('restart');
  try {
    await nextEvent(run.observer, 'ingest.link', (e) => e.event === 'connected', 'the bonded feed to connect', 20_000);
    const log = collectEvents(run.observer, 'log');
    // The sender hears the SRT shutdown ingest sends over its links and reconnects through the same group.
    process.kill(run.app.transmit.pid as number, 'SIGKILL');
    await nextEvent(run.observer, 'ingest.link', (e) => e.event === 'connected', 'the feed back through the restarted listener', 30_000);
    expect(run.sender.srtRepliesByType.get(0x8005)).toBeGreaterThan(0);
    // A sender the shutdown never reached keeps sending into the restarting listener: refused packets
    // are counted, not fatal, and it comes back through the same group after its own idle timeout.
    run.sender.missShutdowns(true);
    const refusedBefore = run.app.srtla?.stats().drops.listener_refused ?? 0;
    process.kill(run.app.transmit.pid as number, 'SIGKILL');
    await nextEvent(run.observer, 'ingest.link', (e) => e.event === 'connected', 'the deaf sender back through the restarted listener', 30_000);
    await nextEvent(run.observer, 'ingest.stats', (s) => s.connected && s.bitrateKbps > 500, 'stats after the restarts', 10_000);
    log.stop();
    expect(run.app.srtla?.stats().drops.listener_refused).toBeGreaterThan(refusedBefore);
    expect(run.sender.links.every((l) => l.registered)).toBe(true);
    expect(log.items.some((e) => /Bonded link .* (joined|left)/.test(e.message))).toBe(false);
    const table = await nextEvent(run.observer, 'ingest.srtla', (t) => t.groups === 1, 'the link table');
    expect(table.links).toHaveLength(2);
  } finally {
    await run.stop();
  }
});

it('survives 100 000 random and mutated datagrams, counts the drops, and the real stream goes on', async () => {
  const run = await bondedIngest('fuzz');
  const captures = readFileSync(fileURLToPath(new URL('./fixtures/srtla-captures.txt', import.meta.url)), 'utf8');
  const vectors = [...captures.matchAll(/((?:^ {2}[0-9a-f]{4} {2}(?:[0-9a-f]{2} ){1,16}.*\n)+)/gm)].map((m) =>
    Buffer.from(
      (m[1] as string)
        .split('\n')
        .map((l) => l.slice(8, 56).replace(/ /g, ''))
        .join(''),
      'hex',
    ),
  );
  const attackers = await Promise.all(
    [10, 11, 12, 13].map(
      (n) =>
        new Promise<ReturnType<typeof createSocket>>((resolve) => {
          const s = createSocket('udp4');
          s.bind(0, `127.0.0.${n}`, () => resolve(s));
        }),
    ),
  );
  try {
    await nextEvent(run.observer, 'ingest.link', (e) => e.event === 'connected', 'the bonded feed to connect', 20_000);
    let seed = 42;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const stalls = collectEvents(run.observer, 'ingest.link');
    const receiver = run.app.srtla as NonNullable<typeof run.app.srtla>;
    const before = { ...receiver.counters, drops: receiver.registry.senderDrops(), kernelDrops: udpReceiveBufferErrors() };
    for (let i = 0; i < 100_000; i++) {
      let datagram: Buffer;
      if (i % 2 === 0) {
        datagram = Buffer.from(vectors[Math.floor(random() * vectors.length)] as Buffer);
        for (let k = 0; k < 3; k++) if (datagram.length) datagram[Math.floor(random() * datagram.length)] = Math.floor(random() * 256);
        if (random() < 0.3) datagram = datagram.subarray(0, Math.floor(random() * datagram.length));
      } else {
        datagram = Buffer.alloc(Math.floor(random() * 1500));
        for (let k = 0; k < datagram.length; k++) datagram[k] = Math.floor(random() * 256);
      }
      (attackers[i % attackers.length] as ReturnType<typeof createSocket>).send(datagram, run.srtlaPort, '127.0.0.1');
      // Paced (about 100 000 datagrams in a few seconds) so the kernel keeps them and every one is counted.
      if (i % 25 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 2000));
    stalls.stop();
    const table = receiver.stats();
    const after = { ...receiver.counters, drops: receiver.registry.senderDrops(), kernelDrops: udpReceiveBufferErrors() };
    // The attackers are never registered, so all they got is answers or drops; the legitimate links
    // got forwarding and echoes. Whatever the kernel did not drop for lack of buffer was counted.
    const fromAttackers = after.datagrams - before.datagrams - (after.forwarded - before.forwarded) - (after.echoed - before.echoed);
    expect(fromAttackers).toBe(after.answered - before.answered + (after.drops - before.drops));
    expect(fromAttackers).toBeLessThanOrEqual(100_000);
    expect(fromAttackers).toBeGreaterThanOrEqual(100_000 - (after.kernelDrops - before.kernelDrops));
    expect(after.kernelDrops - before.kernelDrops).toBeLessThan(1000);
    expect(after.drops - before.drops).toBeGreaterThan(90_000);
    expect(table.drops.unregistered).toBeGreaterThan(0);
    expect(table.drops.reg_truncated).toBeGreaterThan(0);
    // The legitimate stream never stalled and still decodes cleanly.
    expect(stalls.items.filter((e) => e.event === 'stalled' || e.event === 'disconnected')).toEqual([]);
    await nextEvent(run.observer, 'ingest.stats', (s) => s.connected && s.bitrateKbps > 500, 'the real stream still flowing');
    expect(run.reader.errors()).toBe('');
    expect(run.sender.links.every((l) => l.registered)).toBe(true);
  } finally {
    for (const s of attackers) s.close();
    await run.stop();
  }
});
