// Owns the streamer-facing SRT UDP port: forwards each sender's datagrams to its stream's srt-live-transmit
// on loopback through a socket of its own, and replies back, so every packet's arrival is seen here.
// Several streams share the port: a sender's conclusion handshake names its stream (by key), and from then
// on its packets go to that stream's listener.
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '@irlkit/shared';
import {
  handshakeCookie,
  handshakeStreamId,
  isConnectedAnswer,
  isInductionHandshake,
  isSrtShutdown,
  packetType,
  SRT_CONTROL,
  SRT_HEADER_BYTES,
  srtDestinationSocketId,
  srtPacketKind,
  withHandshakeCookie,
} from '../wire/srt.ts';
import { addressBlock, addressLabel, bindUdp, PeerTable, setSocketBuffers } from '../wire/udp.ts';
import type { StreamRouting } from './stream-id.ts';

/** A peer srt-live-transmit has not accepted within this long may give its slot to a newcomer. */
const UNACCEPTED_PEER_GRACE_MS = 2000;
/**
 * Peers from one address that srt-live-transmit has not accepted: a sender needs one (two while a
 * phone's old port lingers); a handshake flood from fresh ports must not take every slot.
 */
export const MAX_PENDING_PER_ADDRESS = 2;

export interface SrtRelayOptions {
  bindHost: string;
  port: number;
  /**
   * Each stream's srt-live-transmit listener on loopback. A sender names its stream only in its second
   * handshake: its first (the induction) goes to every listener; with one listener, every sender is its stream's.
   * Streams come and go at runtime with addStream and removeStream.
   */
  listeners: readonly StreamListener[];
  /** Route every sender by the stream id of its handshake even with one listener (a list that may grow at runtime). */
  routeAlways?: boolean;
  maxPeers: number;
  peerIdleMs: number;
  socketBufferBytes: number;
  log: Logger;
  /** `source` is the relay's loopback port for this peer: what srt-live-transmit sees as the sender. */
  onDatagram(stream: string, peer: string, payloadBytes: number, kind: 'data' | 'control', source: number | undefined): void;
  onShutdown(stream: string, peer: string, source: number | undefined): void;
  /** Whether srt-live-transmit accepted the sender behind this loopback port (its slot is never given away). */
  isAcceptedSource(localPort: number): boolean;
  /** srt-live-transmit sent an ACK, NAK or keepalive to the sender behind this loopback port: it is the accepted one. */
  onListenerAnswer(stream: string, localPort: number): void;
  /** A sender asked srt-live-transmit for a new connection (a conclusion handshake), from this loopback port. */
  onConnectionRequest(stream: string, localPort: number): void;
  /** Every datagram a stream's srt-live-transmit sends back to a sender: proof it is alive. */
  onReply?(stream: string): void;
  /** The stream a sender with this SRT stream id publishes to, or why it may not; a refused sender's handshake is not forwarded. */
  route(streamId: string): StreamRouting;
  /** A sender was refused for its stream id (once per sender). */
  onRefused(peer: string, streamId: string, reason: string): void;
}

export interface StreamListener {
  stream: string;
  host: string;
  port: number;
}

interface Peer {
  label: string;
  address: string;
  port: number;
  socket: Socket;
  localPort: number;
  firstSeen: number;
  lastSeen: number;
  /** The sender's SRT socket id, read from srt-live-transmit's replies (0 until one came). */
  senderSocketId: number;
  /** The stream id of its last conclusion handshake ('' for none). */
  streamId: string | undefined;
  refused: boolean;
  /** The stream its packets go to; undefined until its conclusion handshake named one (several streams only). */
  stream: StreamListener | undefined;
  /** Each listener's SYN cookie for this peer (by listener port), from their answers to its induction. */
  cookies: Map<number, number>;
  /** Whether a listener's answer to the sender's latest induction went back to it (the others' are only kept). */
  inductionAnswered: boolean;
}

export class SrtRelay {
  private socket: Socket | undefined;
  private readonly peers = new PeerTable<Peer>();
  readonly drops = { notSrt: 0, notHandshake: 0, tooManyPeers: 0, tooManyPending: 0, forwardError: 0, refusedStreamId: 0, unrouted: 0, foreignReply: 0 };
  grantedBufferBytes = 0;

  private readonly listeners: StreamListener[];
  private readonly listenerByPort: Map<number, StreamListener>;
  /** One listener for good: every sender is its stream's, without asking its handshake. */
  private readonly single: boolean;

  constructor(private readonly options: SrtRelayOptions) {
    if (options.listeners.length === 0) throw new Error('SrtRelay needs at least one listener');
    this.listeners = [...options.listeners];
    this.listenerByPort = new Map(options.listeners.map((listener) => [listener.port, listener]));
    this.single = options.listeners.length === 1 && !options.routeAlways;
  }

  private get primary(): StreamListener {
    return this.listeners[0] as StreamListener;
  }

  private streamListener(stream: string): StreamListener | undefined {
    return this.listeners.find((listener) => listener.stream === stream);
  }

  /** A stream added at runtime: senders whose handshake names it go to its listener from now on. */
  addStream(listener: StreamListener): void {
    if (this.single) throw new Error('SrtRelay was built for one stream (routeAlways adds streams at runtime)');
    this.listeners.push(listener);
    this.listenerByPort.set(listener.port, listener);
  }

  /**
   * A stream removed at runtime: its senders are told their SRT session is over and forgotten (what they
   * send next is a stranger's, and a new handshake of theirs is routed like anyone's). Returns how many were told.
   */
  removeStream(stream: string): number {
    const told = this.endSessions(stream);
    const index = this.listeners.findIndex((listener) => listener.stream === stream);
    const [gone] = index < 0 ? [] : this.listeners.splice(index, 1);
    if (gone) {
      this.listenerByPort.delete(gone.port);
      for (const peer of this.peers.values()) peer.cookies.delete(gone.port);
    }
    return told;
  }

  async start(): Promise<void> {
    const socket = await bindUdp(this.options.bindHost, this.options.port, (msg, rinfo) => this.fromSender(msg, rinfo.address, rinfo.port));
    this.socket = socket;
    socket.on('error', (error) => this.options.log.error({ err: error }, 'SRT port socket error'));
    this.grantedBufferBytes = setSocketBuffers(socket, this.options.socketBufferBytes);
    this.peers.forgetIdleAfter(this.options.peerIdleMs);
  }

  get boundPort(): number {
    return this.socket?.address().port ?? 0;
  }

  /** The SRT stream id the sender at this address ("host:port") sent, if it sent one. */
  streamIdOf(label: string | null): string | null {
    if (!label) return null;
    for (const peer of this.peers.values()) if (peer.label === label) return peer.streamId || null;
    return null;
  }

  /** The outside address behind one of the relay's loopback ports (to name peers in srt-live-transmit's logs). */
  peerByLocalPort(localPort: number): string | undefined {
    for (const peer of this.peers.values()) if (peer.localPort === localPort) return peer.label;
    return undefined;
  }

  private fromSender(msg: Buffer, address: string, port: number): void {
    const kind = srtPacketKind(msg);
    if (kind === 'invalid') {
      this.drops.notSrt += 1;
      return;
    }
    const key = `${address}|${port}`;
    let peer = this.peers.get(key);
    const now = Date.now();
    if (!peer) {
      // Every SRT connection opens with a handshake; anything else from an unknown address is noise
      // and must not take one of the few peer slots.
      if (kind !== 'control' || packetType(msg) !== SRT_CONTROL.handshake) {
        this.drops.notHandshake += 1;
        return;
      }
      if (this.pendingFrom(address) >= MAX_PENDING_PER_ADDRESS && !this.evictUnaccepted(now, address)) {
        this.drops.tooManyPending += 1;
        return;
      }
      if (this.peers.size >= this.options.maxPeers && !this.evictUnaccepted(now)) {
        this.drops.tooManyPeers += 1;
        return;
      }
      peer = this.addPeer(key, address, port, now);
    }
    peer.lastSeen = now;
    let packet: Uint8Array = msg;
    if (kind === 'control') {
      const streamId = handshakeStreamId(msg);
      if (streamId !== undefined) {
        peer.streamId = streamId;
        const routing = this.options.route(streamId);
        if (routing.refused !== undefined && !peer.refused) this.options.onRefused(peer.label, streamId, routing.refused);
        peer.refused = routing.refused !== undefined;
        const listener = routing.stream === undefined ? undefined : this.streamListener(routing.stream);
        if (listener) {
          peer.stream = listener;
          // Inducted by the first listener: bring this one's own cookie.
          const cookie = peer.cookies.get(listener.port);
          if (cookie !== undefined && cookie !== handshakeCookie(msg)) packet = withHandshakeCookie(msg, cookie);
          if (peer.localPort) this.options.onConnectionRequest(listener.stream, peer.localPort);
        }
      } else if (!this.single && isInductionHandshake(msg)) {
        // Which stream the sender wants comes with its next handshake: every listener bakes it a cookie now.
        // A listener with a sender already connected stays silent (srt-live-transmit serves one at a time).
        peer.inductionAnswered = false;
        for (const listener of this.listeners) this.forward(peer, msg, listener);
        if (peer.stream) this.options.onDatagram(peer.stream.stream, peer.label, msg.length - SRT_HEADER_BYTES, kind, peer.localPort || undefined);
        return;
      }
    }
    if (peer.refused) {
      this.drops.refusedStreamId += 1;
      return;
    }
    const listener = peer.stream;
    if (!listener) {
      this.drops.unrouted += 1;
      return;
    }
    const source = peer.localPort || undefined;
    this.options.onDatagram(listener.stream, peer.label, msg.length - SRT_HEADER_BYTES, kind, source);
    if (kind === 'control' && isSrtShutdown(msg)) this.options.onShutdown(listener.stream, peer.label, source);
    this.forward(peer, packet, listener);
  }

  private forward(peer: Peer, packet: Uint8Array, listener: StreamListener): void {
    peer.socket.send(packet, listener.port, listener.host, (error) => {
      if (error) this.drops.forwardError += 1;
    });
  }

  /** A listener's datagram for a sender: only its own stream's, and of the answers to an induction only the first. */
  private fromListener(peer: Peer, reply: Buffer, fromPort: number): void {
    const listener = this.listenerByPort.get(fromPort);
    if (!listener) {
      this.drops.foreignReply += 1;
      return;
    }
    if (isInductionHandshake(reply)) {
      peer.cookies.set(listener.port, handshakeCookie(reply));
      // The first answer goes back to the sender; its conclusion gets the named stream's own cookie.
      if (!this.single && peer.inductionAnswered) return;
      peer.inductionAnswered = true;
    } else if (listener !== peer.stream) {
      this.drops.foreignReply += 1;
      return;
    }
    const id = srtDestinationSocketId(reply);
    if (id !== 0) peer.senderSocketId = id;
    this.options.onReply?.(listener.stream);
    if (isConnectedAnswer(reply) && peer.localPort) this.options.onListenerAnswer(listener.stream, peer.localPort);
    this.socket?.send(reply, peer.port, peer.address);
  }

  /** Peers from this address's block (IPv4 address, IPv6 /64) that srt-live-transmit has not accepted. */
  private pendingFrom(address: string): number {
    let pending = 0;
    const block = addressBlock(address);
    for (const peer of this.peers.values()) if (addressBlock(peer.address) === block && !this.options.isAcceptedSource(peer.localPort)) pending += 1;
    return pending;
  }

  /** Frees the slot of the oldest peer (from `address`, when given) srt-live-transmit never accepted, if it had its chance. */
  private evictUnaccepted(now: number, address?: string): boolean {
    let oldest: [string, Peer] | undefined;
    for (const entry of this.peers) {
      const peer = entry[1];
      if (address !== undefined && addressBlock(peer.address) !== addressBlock(address)) continue;
      if (this.options.isAcceptedSource(peer.localPort) || now - peer.firstSeen < UNACCEPTED_PEER_GRACE_MS) continue;
      if (!oldest || peer.firstSeen < oldest[1].firstSeen) oldest = entry;
    }
    if (!oldest) return false;
    oldest[1].socket.close();
    this.peers.delete(oldest[0]);
    this.options.log.debug({ peer: oldest[1].label }, 'SRT peer slot reclaimed');
    return true;
  }

  private addPeer(key: string, address: string, port: number, now: number): Peer {
    const socket = createSocket('udp4');
    const peer: Peer = {
      label: addressLabel(address, port),
      address,
      port,
      socket,
      localPort: 0,
      firstSeen: now,
      lastSeen: now,
      senderSocketId: 0,
      streamId: undefined,
      refused: false,
      // With one stream every sender is its; with several, its handshake says whose.
      stream: this.single ? this.primary : undefined,
      cookies: new Map(),
      inductionAnswered: false,
    };
    socket.on('message', (reply, rinfo) => this.fromListener(peer, reply, rinfo.port));
    socket.on('error', (error) => this.options.log.warn({ err: error, peer: peer.label }, 'relay socket error'));
    socket.bind(0, '127.0.0.1', () => {
      peer.localPort = socket.address().port;
      setSocketBuffers(socket, this.options.socketBufferBytes);
    });
    this.peers.set(key, peer);
    this.options.log.debug({ peer: peer.label }, 'new SRT peer');
    return peer;
  }

  /**
   * A stream's srt-live-transmit was restarted and forgot every session: tell each of its senders at once
   * (an SRT shutdown for its socket id) so it reconnects now instead of after its peer-idle timeout, and
   * forget the peers, so their dead sessions' packets never reach the new listener. Other streams' senders
   * are left alone.
   */
  endSessions(stream: string): number {
    return this.peers.endSessions(
      (peer) => peer.stream?.stream === stream,
      (peer) => peer.senderSocketId,
      this.socket,
    );
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    await this.peers.closeWith(socket);
  }
}
