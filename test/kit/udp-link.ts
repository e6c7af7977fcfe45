// A controllable network link for one UDP sender: forwards to a target and back, and can be cut,
// restored or throttled (a token bucket that drops what exceeds the rate, like a congested cell).
import { createSocket, type Socket } from 'node:dgram';
import { freeUdpPort } from './ports.ts';

/** An SRT packet's header; its payload follows. */
const SRT_HEADER_BYTES = 16;

export interface UdpLink {
  /** Where the sender should send. */
  port: number;
  cut(): void;
  restore(): void;
  /** Limit sender → target throughput; undefined lifts the limit. */
  limit(kbps: number | undefined): void;
  /** Drop this share (0..1) of sender → target datagrams at random, like a lossy cell; 0 lifts it. */
  loss(share: number): void;
  /**
   * Garbles the sender's current session: SRT data packets back to its current port arrive with their
   * payload blanked (no MPEG-TS sync byte left) while control packets pass untouched, so the session
   * stays up, acknowledged and retransmitted as usual, with nothing to show.
   * A new socket of the sender (another source port: a reopened player) is left alone.
   */
  garbleCurrent(): void;
  stats: { forwarded: number; dropped: number };
  stop(): Promise<void>;
}

export async function startUdpLink(target: { host: string; port: number }): Promise<UdpLink> {
  const port = await freeUdpPort();
  const front = createSocket('udp4');
  // One back socket per sender port, as a NAT would: a sender's new socket is a new peer for the target.
  const backs = new Map<string, Socket>();
  let garbledPort: number | undefined;
  let cut = false;
  let rateKbps: number | undefined;
  let lossShare = 0;
  let tokens = 0;
  let lastRefill = Date.now();
  let lastSenderPort: number | undefined;
  const stats = { forwarded: 0, dropped: 0 };
  const backFor = (address: string, senderPort: number): Socket => {
    const key = `${address}:${senderPort}`;
    let back = backs.get(key);
    if (!back) {
      const socket = createSocket('udp4');
      socket.on('message', (msg) => {
        if (cut) return;
        if (senderPort === garbledPort && ((msg[0] as number) & 0x80) === 0) {
          // Data packets keep coming (the session stays healthy) but carry nothing a demuxer can read.
          const garbled = Buffer.from(msg);
          garbled.fill(0xff, SRT_HEADER_BYTES);
          stats.dropped += 1;
          front.send(garbled, senderPort, address);
          return;
        }
        front.send(msg, senderPort, address);
      });
      socket.bind(0, '127.0.0.1');
      backs.set(key, socket);
      back = socket;
    }
    return back;
  };
  front.on('message', (msg, rinfo) => {
    lastSenderPort = rinfo.port;
    const back = backFor(rinfo.address, rinfo.port);
    if (cut || (lossShare > 0 && Math.random() < lossShare)) {
      stats.dropped += 1;
      return;
    }
    if (rateKbps !== undefined) {
      const now = Date.now();
      tokens = Math.min((rateKbps * 1000) / 8 / 5, tokens + ((now - lastRefill) * rateKbps) / 8); // bucket: 200 ms of bytes
      lastRefill = now;
      if (tokens < msg.length) {
        stats.dropped += 1;
        return;
      }
      tokens -= msg.length;
    }
    stats.forwarded += 1;
    back.send(msg, target.port, target.host);
  });
  await new Promise<void>((resolve) => front.bind(port, '127.0.0.1', () => resolve()));
  const close = (s: Socket) => new Promise<void>((resolve) => s.close(() => resolve()));
  return {
    port,
    stats,
    cut: () => {
      cut = true;
    },
    restore: () => {
      cut = false;
    },
    garbleCurrent: () => {
      garbledPort = lastSenderPort;
    },
    loss: (share) => {
      lossShare = share;
    },
    limit: (kbps) => {
      rateKbps = kbps;
      tokens = 0;
      lastRefill = Date.now();
    },
    stop: async () => {
      await close(front);
      for (const back of backs.values()) await close(back);
    },
  };
}
