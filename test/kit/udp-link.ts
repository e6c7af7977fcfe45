// A controllable network link for one UDP sender: forwards to a target and back, and can be cut,
// restored or throttled (a token bucket that drops what exceeds the rate, like a congested cell).
import { createSocket, type Socket } from 'node:dgram';
import { freeUdpPort } from './ports.ts';

export interface UdpLink {
  /** Where the sender should send. */
  port: number;
  cut(): void;
  restore(): void;
  /** Limit sender → target throughput; undefined lifts the limit. */
  limit(kbps: number | undefined): void;
  /** Drop this share (0..1) of sender → target datagrams at random, like a lossy cell; 0 lifts it. */
  loss(share: number): void;
  stats: { forwarded: number; dropped: number };
  stop(): Promise<void>;
}

export async function startUdpLink(target: { host: string; port: number }): Promise<UdpLink> {
  const port = await freeUdpPort();
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  let sender: { address: string; port: number } | undefined;
  let cut = false;
  let rateKbps: number | undefined;
  let lossShare = 0;
  let tokens = 0;
  let lastRefill = Date.now();
  const stats = { forwarded: 0, dropped: 0 };
  front.on('message', (msg, rinfo) => {
    sender = { address: rinfo.address, port: rinfo.port };
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
  back.on('message', (msg) => {
    if (!cut && sender) front.send(msg, sender.port, sender.address);
  });
  await new Promise<void>((resolve) => front.bind(port, '127.0.0.1', () => resolve()));
  await new Promise<void>((resolve) => back.bind(0, '127.0.0.1', () => resolve()));
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
      await close(back);
    },
  };
}
