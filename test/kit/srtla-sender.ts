// An SRTLA sender for tests: accepts SRT from ffmpeg on a local UDP port and spreads it over N
// links, each bound to its own 127.0.0.x address (or ::1 ports), registering them like BELABOX does;
// links can be cut (silent both ways, like a SIM losing signal), restored (in a new group if the receiver forgot
// the old one meanwhile), re-bound to a new source port (a mobile NAT changing its mapping), or made lossy (a
// fraction of datagrams lost both ways; at 1 the link is dead without the sender being told, and it stops using
// it once it has heard nothing on it for 1.5 s, as real senders do).
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { freeUdpPort } from './ports.ts';

const T = { keepalive: 0x9000, ack: 0x9100, reg1: 0x9200, reg2: 0x9201, reg3: 0x9202, regErr: 0x9210, regNgp: 0x9211 };
/** SRT's shutdown control packet type. */
const SRT_SHUTDOWN = 0x8005;
/** SRT's NAK control packet type. */
const SRT_NAK = 0x8003;
/** The sequence numbers a NAK's loss list names (an entry with the top bit set starts a range ending at the next entry). */
function nakLossList(msg: Buffer): number[] {
  const seqs: number[] = [];
  for (let at = 16; at + 4 <= msg.length; at += 4) {
    const word = msg.readUInt32BE(at);
    if (word & 0x80000000 && at + 8 <= msg.length) {
      const last = msg.readUInt32BE(at + 4) & 0x7fffffff;
      for (let seq = word & 0x7fffffff; seq <= last && seqs.length < 10_000; seq++) seqs.push(seq);
      at += 4;
    } else seqs.push(word & 0x7fffffff);
  }
  return seqs;
}
const type = (b: Buffer) => (b.length >= 2 ? b.readUInt16BE(0) : -1);
const withId = (t: number, id: Buffer) => {
  const b = Buffer.alloc(258);
  b.writeUInt16BE(t);
  id.copy(b, 2);
  return b;
};

/** BELABOX: 2-byte keepalive; Moblin: + int64 ms timestamp; extended: + irlserver link telemetry (RTT). */
export type KeepaliveStyle = 'belabox' | 'moblin' | 'extended';

export interface SrtlaSenderOptions {
  /** 'ipv4' binds 127.0.0.2, .3, …; 'ipv6' binds every link to ::1 on its own port. */
  family?: 'ipv4' | 'ipv6';
  keepalive?: KeepaliveStyle;
  /** Pad registrations and keepalives with zeros to this many bytes (as some senders do for carrier NATs). */
  padTo?: number;
  /** How long to wait for every link to register. */
  registerTimeoutMs?: number;
  /** The local UDP port ffmpeg sends SRT to; a free one when omitted. */
  listenPort?: number;
  /** IPv4 only: the links' source addresses (default 127.0.0.2, .3, …). */
  addresses?: string[];
}

export interface SenderLink {
  address: string;
  socket: Socket;
  /** Current local port (changes on rebind). */
  port: number;
  registered: boolean;
  cut: boolean;
  /** Fraction of datagrams lost each way (0 = none). */
  lossRate: number;
  /** SRT packets sent over this link. */
  sent: number;
  lastHeard: number;
  /** SRTLA ACKs received and the sequence numbers they carried. */
  acks: number;
  ackedSeqs: number;
  /** RTT measured from the receiver's echo of our timestamped keepalives. */
  rttMs: number | null;
}

export interface SrtlaSender {
  /** Where ffmpeg sends its SRT (caller mode). */
  port: number;
  links: SenderLink[];
  cut(index: number): void;
  restore(index: number): void;
  /** Loses this fraction of the link's datagrams both ways, silently (1 = a dead SIM the sender must notice). */
  setLoss(index: number, rate: number): void;
  /** SRT packets from the receiver for ffmpeg, by SRT control type (e.g. 0x8003 NAK), whether handed on or not. */
  srtRepliesByType: Map<number, number>;
  /** ffmpeg's retransmissions (SRT data with the R flag) by sequence number: how many were sent, and how many a link carried (not lost). */
  retransmissions: Map<number, { sent: number; carried: number }>;
  /** Sequence numbers of ffmpeg's first sends (no R flag) that a link lost. */
  originalsLost: Set<number>;
  /** Per sequence number, when (Date.now()) each NAK naming it was handed to ffmpeg. */
  nakedAt: Map<number, number[]>;
  /** Packets a link carried more often than the one copy each needs (its first send if a link carried it, else one retransmission). */
  extraCopies(): Array<{ seq: number; extra: number; nakedAt: number[] }>;
  /** Drops the receiver's SRT shutdowns before ffmpeg sees them: a sender the shutdown never reached. */
  missShutdowns(miss: boolean): void;
  /** Moves a link to a new local port, as a NAT re-binding it would; it registers again from there. */
  rebind(index: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startSrtlaSender(receiver: { host: string; port: number }, linkCount: number, options: SrtlaSenderOptions = {}): Promise<SrtlaSender> {
  const family = options.family ?? (receiver.host.includes(':') ? 'ipv6' : 'ipv4');
  const socketType = family === 'ipv6' ? 'udp6' : 'udp4';
  const port = options.listenPort ?? (await freeUdpPort());
  const local = createSocket('udp4');
  let ffmpeg: { address: string; port: number } | undefined;
  const senderId = randomBytes(256);
  let groupId: Buffer | undefined;
  let reg1Sent = false;
  const links: SenderLink[] = [];
  let next = 0;
  let stopped = false;

  const pad = (b: Buffer) => (options.padTo && b.length < options.padTo ? Buffer.concat([b, Buffer.alloc(options.padTo - b.length)]) : b);
  const lost = (link: SenderLink) => link.lossRate > 0 && Math.random() < link.lossRate;
  const srtRepliesByType = new Map<number, number>();
  const retransmissions = new Map<number, { sent: number; carried: number }>();
  const originalsLost = new Set<number>();
  const nakedAt = new Map<number, number[]>();
  let shutdownsMissed = false;
  const sendOn = (link: SenderLink, data: Buffer) => {
    if (!link.cut && !stopped && !lost(link)) link.socket.send(data, receiver.port, receiver.host);
  };
  const keepalive = (link: SenderLink, index: number): Buffer => {
    const style = options.keepalive ?? 'moblin';
    if (style === 'belabox') return pad(Buffer.from([0x90, 0x00]));
    const b = Buffer.alloc(style === 'extended' ? 38 : 10);
    b.writeUInt16BE(T.keepalive);
    b.writeBigUInt64BE(BigInt(Date.now()), 2);
    if (style === 'extended') {
      b.writeUInt16BE(0xc01f, 10);
      b.writeUInt16BE(1, 12);
      b.writeUInt32BE(index, 14);
      b.writeInt32BE(20_000, 18);
      b.writeUInt32BE(link.rttMs === null ? 0 : Math.round(link.rttMs), 26);
    }
    return pad(b);
  };

  const onMessage = (link: SenderLink, msg: Buffer) => {
    if (link.cut || lost(link)) return;
    link.lastHeard = Date.now();
    const t = type(msg);
    if (t === T.regNgp) {
      link.registered = false;
      // No link registered and the receiver knows no such group: it forgot it (every link silent past its
      // timeout, or a receiver restart). Like srtla_send, make a new group with REG1.
      if (groupId && links.every((l) => !l.registered)) {
        groupId = undefined;
        reg1Sent = false;
      }
      if (!groupId && !reg1Sent) {
        reg1Sent = true; // one REG1 creates the group; every link then joins it with REG2
        sendOn(link, pad(withId(T.reg1, senderId)));
      }
    } else if (t === T.reg2 && msg.length >= 258) {
      if (!msg.subarray(2, 130).equals(senderId.subarray(0, 128))) return; // not our group
      groupId = Buffer.from(msg.subarray(2, 258));
      for (const l of links) if (!l.registered) sendOn(l, pad(withId(T.reg2, groupId)));
    } else if (t === T.reg3) link.registered = true;
    else if (t === T.regErr) link.registered = false;
    else if (t === T.keepalive) {
      if (msg.length >= 10) link.rttMs = Date.now() - Number(msg.readBigUInt64BE(2));
    } else if (t === T.ack && msg.length === 44) {
      link.acks += 1;
      link.ackedSeqs += 10;
    } else if (ffmpeg) {
      if (msg.length >= 16 && (msg[0] as number) & 0x80) srtRepliesByType.set(t, (srtRepliesByType.get(t) ?? 0) + 1);
      if (t === SRT_NAK) for (const seq of nakLossList(msg)) nakedAt.set(seq, [...(nakedAt.get(seq) ?? []), Date.now()]);
      if (!(shutdownsMissed && t === SRT_SHUTDOWN)) local.send(msg, ffmpeg.port, ffmpeg.address);
    }
  };

  const openSocket = async (link: SenderLink) => {
    const socket = createSocket(socketType);
    socket.on('message', (msg) => onMessage(link, msg));
    socket.on('error', () => {}); // a cut or closed link just loses packets
    await new Promise<void>((resolve) => socket.bind(0, link.address, () => resolve()));
    link.socket = socket;
    link.port = socket.address().port;
  };

  for (let i = 0; i < linkCount; i++) {
    const link: SenderLink = {
      address: family === 'ipv6' ? '::1' : (options.addresses?.[i] ?? `127.0.0.${i + 2}`),
      socket: undefined as unknown as Socket,
      port: 0,
      registered: false,
      cut: false,
      lossRate: 0,
      sent: 0,
      lastHeard: Date.now(),
      acks: 0,
      ackedSeqs: 0,
      rttMs: null,
    };
    await openSocket(link);
    links.push(link);
  }
  local.on('message', (msg, rinfo) => {
    ffmpeg = { address: rinfo.address, port: rinfo.port };
    // A link heard from within 1.5 s is usable; if none is, try them all.
    const now = Date.now();
    const usable = (l: SenderLink) => l.registered && !l.cut && now - l.lastHeard <= 1500;
    const anyUsable = links.some(usable);
    let link: SenderLink | undefined;
    for (let k = 0; k < links.length && !link; k++) {
      const candidate = links[next++ % links.length] as SenderLink;
      if (anyUsable ? usable(candidate) : candidate.registered && !candidate.cut) link = candidate;
    }
    if (!link) return;
    link.sent += 1;
    // What happens to ffmpeg's SRT data: first sends lost on a link, and retransmissions (the R flag, bit 26 of the second word).
    const seq = msg.length >= 16 && ((msg[0] as number) & 0x80) === 0 ? msg.readUInt32BE(0) & 0x7fffffff : null;
    const retransmitted = seq !== null && ((msg[4] as number) & 0x04) !== 0;
    const counted = seq !== null && retransmitted ? (retransmissions.get(seq) ?? { sent: 0, carried: 0 }) : undefined;
    if (seq !== null && counted) {
      counted.sent += 1;
      retransmissions.set(seq, counted);
    }
    const carried = !lost(link);
    if (seq !== null && !retransmitted && !carried) originalsLost.add(seq);
    if (carried) {
      if (counted) counted.carried += 1;
      link.socket.send(msg, receiver.port, receiver.host);
    }
  });
  await new Promise<void>((resolve) => local.bind(port, '127.0.0.1', () => resolve()));

  // Registration and keepalives: probe with REG2 (the receiver answers NGP, then REG1 creates the
  // group), keep every link alive once a second, and re-register links the receiver forgot.
  const tick = () => {
    // Like BELABOX, a sender whose group was refused (REG_ERR) or forgotten tries REG1 again, once a second.
    if (!groupId) reg1Sent = false;
    links.forEach((link, index) => {
      if (link.cut) return;
      if (!link.registered) sendOn(link, pad(withId(T.reg2, groupId ?? senderId)));
      else sendOn(link, keepalive(link, index));
    });
  };
  tick();
  const timer = setInterval(tick, 1000);
  const started = Date.now();
  while (!links.every((l) => l.registered) && Date.now() - started < (options.registerTimeoutMs ?? 5000)) await new Promise((r) => setTimeout(r, 20));

  const close = (s: Socket) => new Promise<void>((resolve) => s.close(() => resolve()));
  const at = (i: number) => {
    const link = links[i];
    if (!link) throw new Error(`the sender has no link ${i} (it has ${links.length})`);
    return link;
  };
  return {
    port,
    links,
    cut: (i) => {
      at(i).cut = true;
    },
    setLoss: (i, rate) => {
      at(i).lossRate = rate;
    },
    srtRepliesByType,
    retransmissions,
    originalsLost,
    nakedAt,
    extraCopies: () =>
      [...retransmissions]
        .map(([seq, r]) => ({ seq, extra: r.carried - (originalsLost.has(seq) ? 1 : 0), nakedAt: nakedAt.get(seq) ?? [] }))
        .filter((r) => r.extra > 0),
    missShutdowns: (miss) => {
      shutdownsMissed = miss;
    },
    restore: (i) => {
      const link = at(i);
      link.cut = false;
      link.registered = false; // re-registers at once, as BELABOX does after silence
      tick();
    },
    rebind: async (i) => {
      const link = at(i);
      const old = link.socket;
      link.registered = false;
      await openSocket(link);
      await close(old);
      tick();
    },
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      for (const l of links) await close(l.socket);
      await close(local);
    },
  };
}
