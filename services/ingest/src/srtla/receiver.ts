// Owns the SRTLA UDP port: registers sender links (protocol.ts), forwards their SRT packets to their
// stream's SRT listener through one loopback socket per group, and sends the listener's replies back.
// With several streams, a group's conclusion handshake names its stream (by key), as on the plain SRT door.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { RecordableHistogram } from 'node:perf_hooks';
import type { IngestSrtla, Logger } from '@irlkit/shared';
import type { StreamListener } from '../srt/relay.ts';
import type { StreamRouting } from '../srt/stream-id.ts';
import {
  handshakeCookie,
  handshakeStreamId,
  isConnectedAnswer,
  isInductionHandshake,
  packetType,
  SRT_CONTROL,
  SRT_HEADER_BYTES,
  srtDestinationSocketId,
  srtShutdownPacket,
  withHandshakeCookie,
} from '../wire/srt.ts';
import { addressLabel, bindUdp, normalizeAddress, setSocketBuffers } from '../wire/udp.ts';
import { type Counters, DROP_REASONS, type Group, type Limits, type Link, SrtlaRegistry } from './protocol.ts';

export interface SrtlaReceiverOptions extends Limits {
  bindHost: string;
  port: number;
  /**
   * Each stream's SRT listener (srt-live-transmit) on loopback; an induction goes to each, the first answer wins. With one, every
   * group is its stream's and its socket is connected to it (a listener away is counted as `listener_refused`).
   * Streams come and go at runtime with addStream and removeStream.
   */
  listeners: readonly StreamListener[];
  /** Route every group by the stream id of its handshake even with one listener (a list that may grow at runtime). */
  routeAlways?: boolean;
  socketBufferBytes: number;
  log: Logger;
  /** Every forwarded packet, for the feed monitor (stall detection covers bonded feeds too). */
  /** `source` is the group's loopback port: what srt-live-transmit sees as the sender. */
  onDatagram?(peer: string, payloadBytes: number, kind: 'data' | 'control', source: number | undefined, stream: string): void;
  /** The SRT listener sent a group an ACK, NAK or keepalive: it accepted the sender behind this loopback port. */
  onListenerAnswer?(localPort: number, stream: string): void;
  /** A group's sender asked the SRT listener for a new connection (a conclusion handshake), from this loopback port. */
  onConnectionRequest?(localPort: number, stream: string): void;
  /** Every datagram a stream's SRT listener sends back to a group: proof it is alive. */
  onReply?(stream: string): void;
  /** The stream a sender with this SRT stream id publishes to, or why it may not (its packets are then dropped). */
  route?(streamId: string): StreamRouting;
  /** A bonded sender was refused for its stream id (once per group). */
  onRefused?(group: string, streamId: string, reason: string): void;
  /** When given, records how long handling each sender datagram took, in ns (benchmarks). */
  handlingTime?: RecordableHistogram;
}

export interface SrtlaJoin {
  ts: number;
  link: string;
  group: string;
  links: number;
}
export interface SrtlaLeave extends SrtlaJoin {
  reason: string;
}

interface Peer {
  address: string;
  port: number;
  label: string;
}

interface GroupSocket {
  socket: Socket;
  group: Group;
  /** Connected to the listener: sends skip the address lookup, and a closed port is reported. */
  connected: boolean;
  /** Its loopback port once bound: srt-live-transmit sees the group as this sender. */
  localPort: number;
  /** Packets that came before the socket was connected (a few ms after the link joined). */
  pending: Buffer[];
  onSent: (error: Error | null) => void;
  /** The sender's SRT socket id, read from the listener's replies (0 until one came). */
  senderSocketId: number;
  /** The stream its packets go to; undefined until its conclusion handshake named one (several streams only). */
  stream: StreamListener | undefined;
  /** Each listener's SYN cookie for this group (by listener port), from their answers to its induction. */
  cookies: Map<number, number>;
  /** Whether a listener's answer to the sender's latest induction went back to it (the others' are only kept). */
  inductionAnswered: boolean;
}
const MAX_PENDING = 256;

/** How a bonded sender is named wherever a feed's peer is shown (ingest.link, ingest.stats, the timeline). */
export function groupPeerName(group: Group): string {
  return `SRTLA group ${group.label}`;
}

export class SrtlaReceiver extends EventEmitter<{ join: [SrtlaJoin]; leave: [SrtlaLeave] }> {
  readonly registry: SrtlaRegistry;
  private socket: Socket | undefined;
  private readonly groupSockets = new Map<Group, GroupSocket>();
  private readonly peers = new Map<string, Peer>();
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Each link's byte count at the last tick and the bytes of the last full second. */
  private readonly rates = new Map<Link, { bytesAtTick: number; lastSecondBytes: number }>();
  private lastTick = 0;
  /** Receive buffer the kernel granted on the senders' port (may be below what was asked). */
  grantedBufferBytes = 0;

  private readonly streamListeners: StreamListener[];
  private readonly listenerByPort: Map<number, StreamListener>;
  /** One listener for good: the group's socket is connected to it. Otherwise each send names its listener. */
  private readonly single: boolean;

  constructor(private readonly options: SrtlaReceiverOptions) {
    super();
    this.registry = new SrtlaRegistry(options);
    if (options.listeners.length === 0) throw new Error('SrtlaReceiver needs at least one listener');
    this.streamListeners = [...options.listeners];
    this.listenerByPort = new Map(options.listeners.map((listener) => [listener.port, listener]));
    this.single = options.listeners.length === 1 && !options.routeAlways;
  }

  private get primary(): StreamListener {
    return this.streamListeners[0] as StreamListener;
  }

  /** A stream added at runtime: groups whose handshake names it go to its listener from now on. */
  addStream(listener: StreamListener): void {
    if (this.single) throw new Error('SrtlaReceiver was built for one stream (routeAlways adds streams at runtime)');
    this.streamListeners.push(listener);
    this.listenerByPort.set(listener.port, listener);
  }

  /**
   * A stream removed at runtime: its groups' senders are told their SRT session is over (on every link) and
   * nothing of theirs is forwarded any more, until a handshake names a stream that exists. Returns how many were told.
   */
  removeStream(stream: string): number {
    const told = this.endSessions(stream);
    for (const entry of this.groupSockets.values()) {
      if (entry.stream?.stream !== stream) continue;
      entry.stream = undefined;
      this.refusedGroups.add(entry.group);
    }
    const index = this.streamListeners.findIndex((listener) => listener.stream === stream);
    const [gone] = index < 0 ? [] : this.streamListeners.splice(index, 1);
    if (gone) {
      this.listenerByPort.delete(gone.port);
      for (const entry of this.groupSockets.values()) entry.cookies.delete(gone.port);
    }
    return told;
  }

  get boundPort(): number {
    return this.socket?.address().port ?? 0;
  }

  /** The name of the bonded sender behind one of the group sockets' loopback ports. */
  peerByLocalPort(localPort: number): string | undefined {
    for (const entry of this.groupSockets.values()) if (entry.localPort === localPort) return groupPeerName(entry.group);
    return undefined;
  }

  get counters(): Readonly<Counters> {
    return this.registry.counters;
  }

  async start(): Promise<void> {
    const timing = this.options.handlingTime;
    const onMessage = timing
      ? (msg: Buffer, rinfo: RemoteInfo) => {
          const started = process.hrtime.bigint();
          this.fromSender(msg, rinfo.address, rinfo.port);
          timing.record(process.hrtime.bigint() - started);
        }
      : (msg: Buffer, rinfo: RemoteInfo) => this.fromSender(msg, rinfo.address, rinfo.port);
    const socket = await bindUdp(this.options.bindHost, this.options.port, onMessage);
    this.socket = socket;
    socket.on('error', (error) => this.options.log.warn({ err: error }, 'SRTLA socket error'));
    this.grantedBufferBytes = setSocketBuffers(socket, this.options.socketBufferBytes);
    if (this.grantedBufferBytes < this.options.socketBufferBytes) {
      this.options.log.info(
        { askedBytes: this.options.socketBufferBytes, grantedBytes: this.grantedBufferBytes },
        'SRTLA socket buffer capped by the kernel (raise net.core.rmem_max for more)',
      );
    }
    this.lastTick = Date.now();
    this.sweepTimer = setInterval(() => this.tick(), 1000);
  }

  private fromSender(msg: Buffer, address: string, port: number): void {
    const key = `${address}|${port}`;
    const now = Date.now();
    const outcome = this.registry.receive(key, normalizeAddress(address), msg, now);
    switch (outcome.action) {
      case 'drop':
        return;
      case 'reply':
        this.socket?.send(outcome.data, port, address);
        return;
      case 'created':
        this.socket?.send(outcome.reply, port, address);
        for (const { link, reason } of outcome.evicted) this.linkLeft(link, reason, now);
        this.closeGroupSocket(outcome.evictedGroup);
        this.options.log.info(
          { group: outcome.evictedGroup.label, address: outcome.evictedGroup.address },
          'SRTLA group without live SRT traffic gave its slot to a new sender',
        );
        return;
      case 'registered': {
        this.socket?.send(outcome.reply, port, address);
        for (const { link: old, reason } of outcome.replaced) this.linkLeft(old, reason, now);
        if (outcome.joined) {
          const label = addressLabel(address, port);
          this.peers.set(key, { address, port, label });
          this.rates.set(outcome.link, { bytesAtTick: 0, lastSecondBytes: 0 });
          this.groupSocket(outcome.link.group);
          const group = outcome.link.group;
          this.emit('join', { ts: now, link: label, group: group.label, links: group.links.size });
        }
        return;
      }
      case 'forward': {
        if (outcome.ack) this.socket?.send(outcome.ack, port, address);
        // A conclusion handshake (it carries the stream id, '' for none) opens a new SRT connection.
        const streamId = outcome.isData ? undefined : handshakeStreamId(msg);
        const routing = this.routeByStreamId(outcome.group, streamId);
        if (routing === 'refused') {
          this.registry.retract('refused_stream_id');
          return;
        }
        const entry = this.groupSocket(outcome.group);
        let packet: Buffer = msg;
        if (routing) {
          entry.stream = routing;
          // Inducted by the first listener: bring this one's own cookie.
          const cookie = entry.cookies.get(routing.port);
          if (cookie !== undefined && cookie !== handshakeCookie(msg)) packet = withHandshakeCookie(msg, cookie);
          if (entry.localPort) this.options.onConnectionRequest?.(entry.localPort, routing.stream);
        } else if (!this.single && !outcome.isData && isInductionHandshake(msg)) {
          this.sendInduction(entry, msg);
          return;
        }
        const listener = entry.stream;
        if (!listener) {
          this.registry.count('forward_error');
          return;
        }
        // One SRT session rides every link of the group: it is named by the group, not by whichever link spoke last.
        this.options.onDatagram?.(
          groupPeerName(outcome.group),
          msg.length - SRT_HEADER_BYTES,
          outcome.isData ? 'data' : 'control',
          entry.localPort || undefined,
          listener.stream,
        );
        this.send(entry, packet, listener);
        return;
      }
    }
  }

  /** A listener that is restarting refuses packets; the group stays and the next packet retries. */
  private send(entry: GroupSocket, packet: Buffer, listener: StreamListener): void {
    if (!entry.connected) {
      if (entry.pending.length < MAX_PENDING) entry.pending.push(packet);
      else this.registry.count('forward_error');
    } else if (this.single) entry.socket.send(packet, entry.onSent);
    else entry.socket.send(packet, listener.port, listener.host, entry.onSent);
  }

  /** Groups whose sender's stream id was refused: nothing of theirs reaches srt-live-transmit. */
  private readonly refusedGroups = new WeakSet<Group>();

  /** For a conclusion handshake: the stream it names, or 'refused'; otherwise 'refused' for a refused group, else undefined. */
  private routeByStreamId(group: Group, streamId: string | undefined): StreamListener | 'refused' | undefined {
    let listener: StreamListener | undefined;
    if (streamId !== undefined) {
      const routing: StreamRouting = this.options.route?.(streamId) ?? { stream: this.primary.stream };
      if (routing.refused !== undefined && !this.refusedGroups.has(group)) this.options.onRefused?.(group.label, streamId, routing.refused);
      if (routing.refused !== undefined) this.refusedGroups.add(group);
      else this.refusedGroups.delete(group);
      listener = this.streamListeners.find((l) => l.stream === routing.stream);
    }
    return this.refusedGroups.has(group) ? 'refused' : listener;
  }

  private groupSocket(group: Group): GroupSocket {
    let entry = this.groupSockets.get(group);
    if (entry) return entry;
    const ipv6 = this.primary.host.includes(':');
    const socket = createSocket(ipv6 ? 'udp6' : 'udp4');
    const created: GroupSocket = {
      socket,
      group,
      connected: false,
      localPort: 0,
      pending: [],
      senderSocketId: 0,
      // With one stream every group is its; with several, its handshake says whose.
      stream: this.single ? this.primary : undefined,
      cookies: new Map(),
      inductionAnswered: false,
      onSent: (error) => {
        if (error) this.registry.count((error as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'listener_refused' : 'forward_error');
      },
    };
    entry = created;
    socket.on('message', (reply, rinfo) => this.fromListener(created, reply, rinfo));
    // Unlike BELABOX, a refusal is no reason to drop the group: count it and keep the socket.
    socket.on('error', (error) => {
      const refused = (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
      this.registry.count(refused ? 'listener_refused' : 'forward_error');
      if (!refused) this.options.log.debug({ err: error, group: group.label }, 'SRTLA group socket error');
    });
    const flush = () => {
      created.connected = true;
      const pending = created.pending;
      created.pending = [];
      for (const packet of pending) this.sendPending(created, packet);
    };
    socket.bind(0, ipv6 ? '::1' : '127.0.0.1', () => {
      created.localPort = socket.address().port;
      setSocketBuffers(socket, this.options.socketBufferBytes);
      if (this.single) socket.connect(this.primary.port, this.primary.host, flush);
      else flush();
    });
    this.groupSockets.set(group, entry);
    return entry;
  }

  /**
   * Which stream the sender wants comes with its next handshake: every listener bakes it a cookie now. A
   * listener with a sender already connected stays silent (srt-live-transmit serves one at a time).
   */
  private sendInduction(entry: GroupSocket, packet: Buffer): void {
    entry.inductionAnswered = false;
    if (!entry.connected) this.send(entry, packet, this.primary);
    else for (const listener of this.streamListeners) this.send(entry, packet, listener);
  }

  /** A packet held while the socket bound: an induction goes to every listener, the rest to the group's stream. */
  private sendPending(entry: GroupSocket, packet: Buffer): void {
    if (!this.single && !entry.stream && isInductionHandshake(packet)) this.sendInduction(entry, packet);
    else if (entry.stream) this.send(entry, packet, entry.stream);
  }

  private fromListener(entry: GroupSocket, reply: Buffer, rinfo: RemoteInfo): void {
    const listener = this.listenerByPort.get(rinfo.port);
    if (!listener) {
      this.registry.count('foreign_reply');
      return;
    }
    if (isInductionHandshake(reply)) {
      entry.cookies.set(listener.port, handshakeCookie(reply));
      // The first answer goes back to the sender; its conclusion gets the named stream's own cookie.
      if (!this.single && entry.inductionAnswered) return;
      entry.inductionAnswered = true;
    } else if (listener !== entry.stream) {
      this.registry.count('foreign_reply');
      return;
    }
    const id = srtDestinationSocketId(reply);
    if (id !== 0) entry.senderSocketId = id;
    this.options.onReply?.(listener.stream);
    const now = Date.now();
    const links = this.registry.routeReply(entry.group, reply, now);
    if (isConnectedAnswer(reply)) this.options.onListenerAnswer?.(entry.localPort, listener.stream);
    const send = packetType(reply) === SRT_CONTROL.nak ? entry.group.naks.filter(reply, now) : reply;
    if (!send) return;
    for (const link of links) {
      const to = this.peers.get(link.key);
      if (to) this.socket?.send(send, to.port, to.address);
    }
  }

  /**
   * The SRT listener was restarted and forgot every session: send each group's sender an SRT
   * shutdown for its socket id on every link (the bonded links stay registered), so it reconnects
   * now instead of after its peer-idle timeout. Only that stream's groups are told. Returns how many were.
   */
  endSessions(stream: string): number {
    let told = 0;
    for (const entry of this.groupSockets.values()) {
      if (entry.senderSocketId === 0 || entry.stream?.stream !== stream) continue;
      const shutdown = srtShutdownPacket(entry.senderSocketId);
      for (const link of entry.group.links.values()) {
        const to = this.peers.get(link.key);
        if (to) this.socket?.send(shutdown, to.port, to.address);
      }
      entry.senderSocketId = 0;
      told += 1;
    }
    return told;
  }

  private closeGroupSocket(group: Group): void {
    this.groupSockets.get(group)?.socket.close();
    this.groupSockets.delete(group);
  }

  private linkLeft(link: Link, reason: string, now: number): void {
    const label = this.peers.get(link.key)?.label ?? link.key;
    this.peers.delete(link.key);
    this.rates.delete(link);
    this.emit('leave', { ts: now, link: label, group: link.group.label, links: link.group.links.size, reason });
  }

  /** Once a second: expire silent links and empty groups, and close the window for rates. */
  private tick(): void {
    const now = Date.now();
    const { leftLinks, removedGroups, evictedLinks } = this.registry.sweep(now);
    for (const link of leftLinks) this.linkLeft(link, `silent for ${Math.round(this.options.linkTimeoutMs / 1000)} s`, now);
    for (const { link, reason } of evictedLinks) this.linkLeft(link, reason, now);
    for (const group of removedGroups) this.closeGroupSocket(group);
    const scale = 1000 / Math.max(1, now - this.lastTick);
    this.lastTick = now;
    for (const [link, rate] of this.rates) {
      rate.lastSecondBytes = (link.bytes - rate.bytesAtTick) * scale;
      rate.bytesAtTick = link.bytes;
    }
  }

  /** The link table for `ingest.srtla`: rates and shares over the last full second. */
  stats(): IngestSrtla {
    const now = Date.now();
    const links: IngestSrtla['links'] = [];
    for (const group of this.registry.groups.values()) {
      let total = 0;
      for (const link of group.links.values()) total += this.rates.get(link)?.lastSecondBytes ?? 0;
      for (const link of group.links.values()) {
        const bytes = this.rates.get(link)?.lastSecondBytes ?? 0;
        links.push({
          group: group.label,
          address: this.peers.get(link.key)?.label ?? link.key,
          bitrateKbps: Math.round((bytes * 8) / 1000),
          share: total > 0 ? Math.min(1, Math.round((bytes / total) * 1000) / 1000) : 0,
          packets: link.packets,
          lastSeenMsAgo: Math.max(0, now - link.lastSeen),
          registeredAt: link.registeredAt,
          rttMs: link.rttMs,
        });
      }
    }
    const drops: Record<string, number> = {};
    for (const reason of DROP_REASONS) drops[reason] = this.registry.drops.get(reason) ?? 0;
    return { ts: now, groups: this.registry.groups.size, links, drops };
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    await Promise.all([...this.groupSockets.values()].map(({ socket }) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    this.groupSockets.clear();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.removeAllListeners();
  }
}
