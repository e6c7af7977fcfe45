// Owns the streamer-facing SRT UDP port: forwards each sender's datagrams to srt-live-transmit on
// loopback through a socket of its own, and replies back, so every packet's arrival is seen here.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Logger } from '@irlkit/shared';
import { isSrtShutdown, SRT_CONTROL, SRT_HEADER_BYTES, srtControlType, srtDestinationSocketId, srtPacketKind, srtShutdownPacket } from './packet.ts';

/** A peer srt-live-transmit has not accepted within this long may give its slot to a newcomer. */
const UNACCEPTED_PEER_GRACE_MS = 2000;

export interface SrtRelayOptions {
  bindHost: string;
  port: number;
  /** srt-live-transmit's listener on loopback. */
  target: { host: string; port: number };
  maxPeers: number;
  peerIdleMs: number;
  socketBufferBytes: number;
  log: Logger;
  /** `source` is the relay's loopback port for this peer: what srt-live-transmit sees as the sender. */
  onDatagram(peer: string, payloadBytes: number, kind: 'data' | 'control', source: number | undefined): void;
  onShutdown(peer: string, source: number | undefined): void;
  /** Whether srt-live-transmit accepted the sender behind this loopback port (its slot is never given away). */
  isAcceptedSource(localPort: number): boolean;
  /** Every datagram srt-live-transmit sends back to a sender: proof it is alive. */
  onReply?(): void;
}

/** "::ffff:1.2.3.4" → "1.2.3.4"; addresses print as host:port or [v6]:port. */
export function peerLabel(address: string, port: number): string {
  const host = address.startsWith('::ffff:') ? address.slice(7) : address;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
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
}

export class SrtRelay {
  private socket: Socket | undefined;
  private readonly peers = new Map<string, Peer>();
  private sweepTimer: NodeJS.Timeout | undefined;
  readonly drops = { notSrt: 0, notHandshake: 0, tooManyPeers: 0, forwardError: 0 };
  grantedBufferBytes = 0;

  constructor(private readonly options: SrtRelayOptions) {}

  async start(): Promise<void> {
    const socket = await bindUdp(this.options.bindHost, this.options.port, (msg, rinfo) => this.fromSender(msg, rinfo.address, rinfo.port));
    this.socket = socket;
    socket.on('error', (error) => this.options.log.error({ err: error }, 'SRT port socket error'));
    this.grantedBufferBytes = setBuffers(socket, this.options.socketBufferBytes);
    this.sweepTimer = setInterval(() => this.sweep(), Math.min(1000, this.options.peerIdleMs));
  }

  get boundPort(): number {
    return this.socket?.address().port ?? 0;
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
      if (kind !== 'control' || srtControlType(msg) !== SRT_CONTROL.handshake) {
        this.drops.notHandshake += 1;
        return;
      }
      if (this.peers.size >= this.options.maxPeers && !this.evictUnaccepted(now)) {
        this.drops.tooManyPeers += 1;
        return;
      }
      peer = this.addPeer(key, address, port, now);
    }
    peer.lastSeen = now;
    const source = peer.localPort || undefined;
    this.options.onDatagram(peer.label, msg.length - SRT_HEADER_BYTES, kind, source);
    if (kind === 'control' && isSrtShutdown(msg)) this.options.onShutdown(peer.label, source);
    peer.socket.send(msg, this.options.target.port, this.options.target.host, (error) => {
      if (error) this.drops.forwardError += 1;
    });
  }

  /** Frees the slot of the oldest peer srt-live-transmit never accepted, if it had its chance. */
  private evictUnaccepted(now: number): boolean {
    let oldest: [string, Peer] | undefined;
    for (const entry of this.peers) {
      const peer = entry[1];
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
    const peer: Peer = { label: peerLabel(address, port), address, port, socket, localPort: 0, firstSeen: now, lastSeen: now, senderSocketId: 0 };
    socket.on('message', (reply) => {
      const id = srtDestinationSocketId(reply);
      if (id !== 0) peer.senderSocketId = id;
      this.options.onReply?.();
      this.socket?.send(reply, port, address);
    });
    socket.on('error', (error) => this.options.log.warn({ err: error, peer: peer.label }, 'relay socket error'));
    socket.bind(0, '127.0.0.1', () => {
      peer.localPort = socket.address().port;
      setBuffers(socket, this.options.socketBufferBytes);
    });
    this.peers.set(key, peer);
    this.options.log.debug({ peer: peer.label }, 'new SRT peer');
    return peer;
  }

  /**
   * srt-live-transmit was restarted and forgot every session: tell each sender at once (an SRT
   * shutdown for its socket id) so it reconnects now instead of after its peer-idle timeout, and
   * forget the peers, so their dead sessions' packets never reach the new listener.
   */
  endSessions(): number {
    let told = 0;
    for (const [key, peer] of this.peers) {
      if (peer.senderSocketId !== 0) {
        this.socket?.send(srtShutdownPacket(peer.senderSocketId), peer.port, peer.address);
        told += 1;
      }
      peer.socket.close();
      this.peers.delete(key);
    }
    return told;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, peer] of this.peers) {
      if (now - peer.lastSeen > this.options.peerIdleMs) {
        peer.socket.close();
        this.peers.delete(key);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const peer of this.peers.values()) peer.socket.close();
    this.peers.clear();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

/** Binds a streamer-facing UDP socket (dual-stack when the host is IPv6, e.g. "::"). */
export async function bindUdp(host: string, port: number, onMessage: (msg: Buffer, rinfo: RemoteInfo) => void): Promise<Socket> {
  const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', ipv6Only: false });
  socket.on('message', onMessage);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

/** Asks for large kernel buffers (bursts of 20+ Mbit/s); returns what the kernel granted. */
export function setBuffers(socket: Socket, bytes: number): number {
  try {
    socket.setRecvBufferSize(bytes);
    socket.setSendBufferSize(bytes);
  } catch {
    // The kernel caps the size (net.core.rmem_max); what it granted is read below.
  }
  try {
    return socket.getRecvBufferSize();
  } catch {
    return 0;
  }
}
