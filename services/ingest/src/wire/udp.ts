// The UDP socket facts both doors share: binding the streamer-facing port (dual-stack), asking the
// kernel for large buffers, and naming a remote address the same way in logs, events and tables.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { srtShutdownPacket } from './srt.ts';

/** Binds a streamer-facing UDP port; "::" is dual-stack, and falls back to IPv4 where IPv6 is off. */
export async function bindUdp(host: string, port: number, onMessage: (msg: Buffer, rinfo: RemoteInfo) => void): Promise<Socket> {
  const attempt = (type: 'udp4' | 'udp6', bindHost: string) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = createSocket({ type, ipv6Only: false });
      socket.once('error', (error) => {
        socket.close();
        reject(error);
      });
      socket.bind(port, bindHost, () => {
        socket.removeAllListeners('error');
        socket.on('message', onMessage);
        resolve(socket);
      });
    });
  if (!host.includes(':')) return attempt('udp4', host);
  try {
    return await attempt('udp6', host);
  } catch (error) {
    if (host !== '::' || !/EAFNOSUPPORT|EADDRNOTAVAIL/.test(String((error as NodeJS.ErrnoException).code))) throw error;
    return attempt('udp4', '0.0.0.0');
  }
}

/** Asks for large kernel buffers (bursts of 20+ Mbit/s); returns what the kernel granted. */
export function setSocketBuffers(socket: Socket, bytes: number): number {
  try {
    socket.setRecvBufferSize(bytes);
  } catch {
    // Capped by net.core.rmem_max; what was granted is read below.
  }
  try {
    socket.setSendBufferSize(bytes);
  } catch {
    // Capped by net.core.wmem_max.
  }
  try {
    return socket.getRecvBufferSize();
  } catch {
    return 0;
  }
}

/** "::ffff:1.2.3.4" (a dual-stack socket's view of IPv4) → "1.2.3.4". */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The block one party controls, for per-address limits: an IPv4 address itself, an IPv6 address's
 * /64 (one subscriber gets a whole /64, so counting single IPv6 addresses would limit nothing).
 */
export function addressBlock(address: string): string {
  const host = normalizeAddress(address);
  if (!host.includes(':')) return host;
  const [head = '', tail = ''] = host.split('%')[0]?.split('::') ?? [];
  const left = head ? head.split(':') : [];
  const right = host.includes('::') && tail ? tail.split(':') : [];
  const groups = host.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => (Number.parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}

/** host:port, or [v6]:port. */
export function addressLabel(address: string, port: number): string {
  const host = normalizeAddress(address);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * A relay's peers by "address:port", each with its own loopback socket towards the child: forgetting one
 * closes its socket, and peers silent for longer than the idle time are forgotten by themselves. Both doors
 * (senders in front of srt-live-transmit, OBS behind it) keep one.
 */
export class PeerTable<T extends { socket: Socket; lastSeen: number; address: string; port: number }> extends Map<string, T> {
  private sweeper: NodeJS.Timeout | undefined;

  /** Starts forgetting peers silent for longer than `idleMs`. */
  forgetIdleAfter(idleMs: number): void {
    this.sweeper = setInterval(
      () => {
        const now = Date.now();
        this.forget((peer) => now - peer.lastSeen > idleMs);
      },
      Math.min(1000, idleMs),
    );
  }

  /**
   * The child behind the relay forgot the picked peers' SRT sessions: each gets an SRT shutdown for the
   * socket id it uses (when known, by `reply`) so it calls again at once, and is forgotten. Returns how
   * many were told.
   */
  endSessions(which: (peer: T) => boolean, socketIdOf: (peer: T) => number, door: Socket | undefined): number {
    let told = 0;
    this.forget(which, (peer) => {
      const id = socketIdOf(peer);
      if (id === 0) return;
      door?.send(srtShutdownPacket(id), peer.port, peer.address);
      told += 1;
    });
    return told;
  }

  /** Forgets every peer and stops forgetting idle ones. */
  closeAll(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.forget(() => true);
  }

  /** The relay stops: every peer forgotten, then its public socket (the door) closed. */
  async closeWith(door: Socket | undefined): Promise<void> {
    this.closeAll();
    await closeUdp(door);
  }

  private forget(which: (peer: T) => boolean, before?: (peer: T) => void): void {
    for (const [key, peer] of this) {
      if (!which(peer)) continue;
      before?.(peer);
      peer.socket.close();
      this.delete(key);
    }
  }
}

/** Closes a relay's public socket, if it has one. */
function closeUdp(socket: Socket | undefined): Promise<void> {
  return socket ? new Promise<void>((resolve) => socket.close(() => resolve())) : Promise.resolve();
}
