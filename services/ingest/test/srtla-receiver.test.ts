// The SRTLA receiver's sockets, with the kit's sender and a plain UDP socket standing in for the SRT
// listener: IPv6 and dual-stack, reply routing, NAT re-bind, padding, RTT, a listener that is away,
// counters that add up, and a stop() that frees the port.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createLogger } from '@irlkit/shared';
import { freeUdpPort, startSrtlaSender, waitFor } from '@irlkit/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { type SrtlaLeave, SrtlaReceiver, type SrtlaReceiverOptions } from '../src/srtla/receiver.ts';

const log = createLogger('srtla-test', 'silent');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A UDP socket playing the SRT listener: records what arrives, can answer. */
async function fakeListener(port?: number, host = '127.0.0.1') {
  const socket: Socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const received: { data: Buffer; from: RemoteInfo }[] = [];
  socket.on('message', (data, from) => received.push({ data, from }));
  await new Promise<void>((resolve) => socket.bind(port ?? 0, host, () => resolve()));
  const listener = {
    port: socket.address().port,
    received,
    reply: (data: Buffer) => {
      const last = received.at(-1);
      if (!last) throw new Error('the fake listener has nobody to reply to');
      socket.send(data, last.from.port, last.from.address);
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  return listener;
}

async function receiverFor(targetPort: number, overrides: Partial<SrtlaReceiverOptions> = {}) {
  const receiver = new SrtlaReceiver({
    bindHost: '::',
    port: 0,
    listeners: [{ stream: 'main', host: '127.0.0.1', port: targetPort }],
    maxGroups: 4,
    maxLinksPerGroup: 16,
    linkTimeoutMs: 5000,
    groupTimeoutMs: 10_000,
    registrationsPerSecond: 50,
    socketBufferBytes: 8 * 1024 * 1024,
    log,
    ...overrides,
  });
  await receiver.start();
  cleanups.push(() => receiver.stop());
  return receiver;
}

/** A stand-in for ffmpeg: sends SRT-looking packets into the sender's local port and collects what comes back. */
async function fakeSrtSource(senderPort: number) {
  const socket = createSocket('udp4');
  const back: Buffer[] = [];
  socket.on('message', (data) => back.push(data));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  let seq = 1000;
  return {
    back,
    sendData: (count: number) => {
      for (let i = 0; i < count; i++) {
        const packet = Buffer.alloc(1316);
        packet.writeUInt32BE(seq++);
        socket.send(packet, senderPort, '127.0.0.1');
      }
    },
    sendControl: (type: number) => {
      const packet = Buffer.alloc(64);
      packet.writeUInt16BE(type);
      socket.send(packet, senderPort, '127.0.0.1');
    },
  };
}

function srtControl(type: number, length = 44): Buffer {
  const b = Buffer.alloc(length);
  b.writeUInt16BE(type);
  b.writeUInt32BE(7, 4);
  return b;
}

function accounted(receiver: SrtlaReceiver): boolean {
  const c = receiver.counters;
  return c.datagrams === c.forwarded + c.echoed + c.answered + receiver.registry.senderDrops();
}

describe('SRTLA receiver sockets', () => {
  it('pads every reply it makes up (REG_NGP, REG3, REG_ERR) to 32 bytes, and the kit sender registers with them', async () => {
    const listener = await fakeListener();
    cleanups.push(() => listener.close());
    const receiver = await receiverFor(listener.port);
    const socket = createSocket('udp4');
    const replies: Buffer[] = [];
    socket.on('message', (data) => replies.push(data));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    const send = (b: Buffer) => socket.send(b, receiver.boundPort, '127.0.0.1');
    const reg = (type: number, id: Buffer) => Buffer.concat([Buffer.from([type >> 8, type & 0xff]), id]);
    const senderId = Buffer.alloc(256, 7);

    send(reg(0x9201, senderId)); // a probe for a group the receiver does not know
    await waitFor(() => replies.length >= 1, 'the REG_NGP answer');
    send(reg(0x9200, senderId));
    await waitFor(() => replies.length >= 2, 'the REG2 answer to REG1');
    const fullId = (replies[1] as Buffer).subarray(2);
    send(reg(0x9201, fullId));
    await waitFor(() => replies.length >= 3, 'the REG3 answer');
    send(reg(0x9200, senderId)); // REG1 from a link already in a group
    await waitFor(() => replies.length >= 4, 'the REG_ERR answer');
    expect(replies.map((r) => [r.readUInt16BE(0).toString(16), r.length])).toEqual([
      ['9211', 32],
      ['9201', 258],
      ['9202', 32],
      ['9210', 32],
    ]);
    for (const reply of [replies[0], replies[2], replies[3]] as Buffer[]) expect(reply.subarray(2).every((b) => b === 0)).toBe(true);

    const sender = await startSrtlaSender({ host: '127.0.0.1', port: receiver.boundPort }, 2);
    cleanups.push(() => sender.stop());
    expect(sender.links.every((l) => l.registered)).toBe(true);
  });

  it('serves IPv6 links over ::1 and IPv4 links on the same dual-stack port, with plain IPv4 addresses in the table', async () => {
    const listener = await fakeListener();
    cleanups.push(() => listener.close());
    const receiver = await receiverFor(listener.port);
    const v6 = await startSrtlaSender({ host: '::1', port: receiver.boundPort }, 2);
    cleanups.push(() => v6.stop());
    const v4 = await startSrtlaSender({ host: '127.0.0.1', port: receiver.boundPort }, 2);
    cleanups.push(() => v4.stop());
    expect(v6.links.every((l) => l.registered)).toBe(true);
    expect(v4.links.every((l) => l.registered)).toBe(true);

    const source = await fakeSrtSource(v6.port);
    source.sendData(40);
    await waitFor(() => listener.received.length >= 40, "the IPv6 links' packets at the listener");
    // SRTLA ACKs: one per 10 data packets per link.
    await waitFor(() => v6.links.reduce((n, l) => n + l.acks, 0) === 4, 'four SRTLA ACKs over the IPv6 links');

    const table = receiver.stats();
    expect(table.groups).toBe(2);
    const addresses = table.links.map((l) => l.address).sort();
    expect(addresses.filter((a) => a.startsWith('[::1]:'))).toHaveLength(2);
    expect(addresses.filter((a) => /^127\.0\.0\.[23]:\d+$/.test(a))).toHaveLength(2);
    expect(addresses.some((a) => a.includes('::ffff:'))).toBe(false);
    expect(accounted(receiver)).toBe(true);
  });

  it("sends the listener's ACK over every link, a NAK and other replies over the latest link only", async () => {
    const listener = await fakeListener();
    cleanups.push(() => listener.close());
    const receiver = await receiverFor(listener.port);
    const sender = await startSrtlaSender({ host: '127.0.0.1', port: receiver.boundPort }, 3);
    cleanups.push(() => sender.stop());
    const source = await fakeSrtSource(sender.port);
    source.sendControl(0x8000); // a handshake, so the listener knows the group's socket
    await waitFor(() => listener.received.length >= 1, 'the handshake at the listener');
    listener.reply(srtControl(0x8002)); // ACK
    await waitFor(() => source.back.length >= 3, 'the ACK over all three links');
    source.sendControl(0x8006); // the sender speaks: its link is the latest, and fresh
    await waitFor(() => listener.received.length >= 2, 'the ACKACK at the listener');
    listener.reply(srtControl(0x8003, 20)); // NAK: only the latest link, one retransmission
    await waitFor(() => source.back.length >= 4, 'the NAK over the latest link');
    listener.reply(srtControl(0x8000, 64)); // handshake: only the latest link
    await waitFor(() => source.back.length >= 5, 'the handshake reply');
    await new Promise((r) => setTimeout(r, 200));
    expect(source.back.map((b) => b.readUInt16BE(0))).toEqual([0x8002, 0x8002, 0x8002, 0x8003, 0x8000]);
  });

  it('lets a link whose NAT re-bound its port back into a full group at once, and says the old one left', async () => {
    const listener = await fakeListener();
    cleanups.push(() => listener.close());
    const receiver = await receiverFor(listener.port, { maxLinksPerGroup: 2, linkTimeoutMs: 30_000 });
    const leaves: SrtlaLeave[] = [];
    receiver.on('leave', (e) => leaves.push(e));
    const sender = await startSrtlaSender({ host: '127.0.0.1', port: receiver.boundPort }, 2);
    cleanups.push(() => sender.stop());
    const oldPort = sender.links[0]?.port;
    sender.cut(0);
    await new Promise((r) => setTimeout(r, 3000)); // the old mapping goes silent (keepalives stop)
    await sender.rebind(0);
    sender.restore(0);
    await waitFor(() => sender.links[0]?.registered, 'the re-bound link to register', 5000);
    expect(sender.links[0]?.port).not.toBe(oldPort);
    expect(leaves.map((l) => l.link)).toEqual([`127.0.0.2:${oldPort}`]);
    expect(leaves[0]?.reason).toMatch(/NAT re-bind/);
    const table = receiver.stats();
    expect(table.links.map((l) => l.address).sort()).toEqual([`127.0.0.2:${sender.links[0]?.port}`, `127.0.0.3:${sender.links[1]?.port}`]);
    expect(table.drops.group_full).toBe(0);
  });

  it('accepts registrations and keepalives padded with zeros, and reports the RTT an extended keepalive carries', async () => {
    const listener = await fakeListener();
    cleanups.push(() => listener.close());
    const receiver = await receiverFor(listener.port);
    const sender = await startSrtlaSender({ host: '127.0.0.1', port: receiver.boundPort }, 2, { keepalive: 'extended', padTo: 300 });
    cleanups.push(() => sender.stop());
    expect(sender.links.every((l) => l.registered)).toBe(true);
    // The first echo gives the sender an RTT; the next keepalive reports it.
    await waitFor(() => receiver.stats().links.every((l) => l.rttMs !== null), 'an RTT on every link', 5000);
    expect(receiver.counters.echoed).toBeGreaterThanOrEqual(2);
    expect(receiver.stats().links.every((l) => (l.rttMs as number) < 50)).toBe(true);
  });

  it('keeps the group while the listener is away, and traffic resumes without registering again', async () => {
    const listenerPort = await freeUdpPort();
    const receiver = await receiverFor(listenerPort);
    const sender = await startSrtlaSender({ host: '127.0.0.1', port: receiver.boundPort }, 2);
    cleanups.push(() => sender.stop());
    const joins: unknown[] = [];
    receiver.on('join', (e) => joins.push(e));
    const source = await fakeSrtSource(sender.port);
    source.sendData(50); // into a closed port: the kernel refuses them
    await waitFor(() => (receiver.stats().drops.listener_refused ?? 0) > 0, 'refusals counted while the listener is away');
    const listener = await fakeListener(listenerPort);
    cleanups.push(() => listener.close());
    source.sendData(20);
    await waitFor(() => listener.received.length >= 20, 'packets at the listener once it is back');
    expect(receiver.stats().groups).toBe(1);
    expect(joins).toHaveLength(0); // nobody had to join again
    expect(sender.links.every((l) => l.registered)).toBe(true);
  });

  it('refuses links beyond the limit, unknown groups and unregistered senders, counting each reason', async () => {
    const listener = await fakeListener();
    cleanups.push(() => listener.close());
    const receiver = await receiverFor(listener.port, { maxLinksPerGroup: 2 });
    const sender = await startSrtlaSender({ host: '127.0.0.1', port: receiver.boundPort }, 3, { registerTimeoutMs: 1500 });
    cleanups.push(() => sender.stop());
    expect(sender.links.filter((l) => l.registered)).toHaveLength(2);
    const stranger = createSocket('udp4');
    await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.9', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => stranger.close(() => resolve())));
    const replies: Buffer[] = [];
    stranger.on('message', (m) => replies.push(m));
    stranger.send(Buffer.from([0x90, 0x00]), receiver.boundPort, '127.0.0.1'); // keepalive, unregistered: silence
    const probe = Buffer.alloc(258);
    probe.writeUInt16BE(0x9201);
    stranger.send(probe, receiver.boundPort, '127.0.0.1'); // unknown group: REG_NGP
    await waitFor(() => replies.length >= 1, 'REG_NGP');
    await new Promise((r) => setTimeout(r, 200));
    expect(replies.map((r) => r.toString('hex'))).toEqual([`9211${'00'.repeat(30)}`]); // REG_NGP, padded to 32 bytes
    const drops = receiver.stats().drops;
    expect(drops.group_full).toBeGreaterThanOrEqual(1);
    expect(drops.unregistered).toBe(1);
    expect(accounted(receiver)).toBe(true);
  });

  it('frees its port and sockets on stop()', async () => {
    const listener = await fakeListener();
    cleanups.push(() => listener.close());
    const receiver = new SrtlaReceiver({
      bindHost: '127.0.0.1',
      port: await freeUdpPort(),
      listeners: [{ stream: 'main', host: '127.0.0.1', port: listener.port }],
      maxGroups: 1,
      maxLinksPerGroup: 4,
      linkTimeoutMs: 5000,
      groupTimeoutMs: 10_000,
      registrationsPerSecond: 10,
      socketBufferBytes: 1024 * 1024,
      log,
    });
    await receiver.start();
    const port = receiver.boundPort;
    expect(receiver.grantedBufferBytes).toBeGreaterThan(0);
    const sender = await startSrtlaSender({ host: '127.0.0.1', port }, 1);
    await sender.stop();
    await receiver.stop();
    const again = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.bind(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => again.close(() => resolve()));
  });
});
