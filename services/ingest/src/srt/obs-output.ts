// Owns the SRT UDP port OBS's media source calls for one stream's feed: forwards OBS's datagrams to
// srt-live-transmit's output listener on loopback and its replies back, learning OBS's SRT socket id
// from them, so that when the child dies OBS can be told its session is over (as the senders are)
// instead of holding the dead one until its own 5 s idle timeout.
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '@irlkit/shared';
import { packetType, SRT_CONTROL, srtDestinationSocketId, srtPacketKind } from '../wire/srt.ts';
import { bindUdp, PeerTable, setSocketBuffers } from '../wire/udp.ts';

export interface ObsOutputOptions {
  bindHost: string;
  port: number;
  /** srt-live-transmit's output listener on loopback; its port is set before the child first starts. */
  target: { host: string; port: number };
  /** Callers served at once: OBS, a restarted OBS while the dead one's slot lingers, and a spare. */
  maxCallers: number;
  /** A caller silent this long is forgotten (OBS sends keepalives every second even when idle). */
  callerIdleMs: number;
  socketBufferBytes: number;
  log: Logger;
  /** srt-live-transmit sent a caller something (the feed, keepalives). */
  onReply(): void;
}

interface Caller {
  address: string;
  port: number;
  socket: Socket;
  lastSeen: number;
  /** The caller's SRT socket id, read from srt-live-transmit's replies (0 until one came). */
  socketId: number;
}

export class ObsOutput {
  private socket: Socket | undefined;
  private readonly callers = new PeerTable<Caller>();

  constructor(private readonly options: ObsOutputOptions) {}

  async start(): Promise<void> {
    this.socket = await bindUdp(this.options.bindHost, this.options.port, (msg, rinfo) => this.fromCaller(msg, rinfo.address, rinfo.port));
    this.socket.on('error', (error) => this.options.log.error({ err: error }, 'OBS output socket error'));
    setSocketBuffers(this.socket, this.options.socketBufferBytes);
    this.callers.forgetIdleAfter(this.options.callerIdleMs);
  }

  private fromCaller(msg: Buffer, address: string, port: number): void {
    const kind = srtPacketKind(msg);
    if (kind === 'invalid') return;
    const key = `${address}|${port}`;
    let caller = this.callers.get(key);
    if (!caller) {
      // Every SRT connection opens with a handshake; a dead session's leftovers must not come back.
      if (kind !== 'control' || packetType(msg) !== SRT_CONTROL.handshake) return;
      if (this.callers.size >= this.options.maxCallers && !this.forgetOldest()) return;
      caller = this.addCaller(key, address, port);
    }
    caller.lastSeen = Date.now();
    caller.socket.send(msg, this.options.target.port, this.options.target.host);
  }

  private addCaller(key: string, address: string, port: number): Caller {
    const socket = createSocket('udp4');
    const caller: Caller = { address, port, socket, lastSeen: Date.now(), socketId: 0 };
    socket.on('message', (reply) => {
      const id = srtDestinationSocketId(reply);
      if (id !== 0) caller.socketId = id;
      this.options.onReply();
      this.socket?.send(reply, port, address);
    });
    socket.on('error', (error) => this.options.log.warn({ err: error }, 'OBS output relay socket error'));
    socket.bind(0, '127.0.0.1', () => setSocketBuffers(socket, this.options.socketBufferBytes));
    this.callers.set(key, caller);
    return caller;
  }

  /** Frees the slot of the caller heard from longest ago (a dead OBS's, while the new one calls). */
  private forgetOldest(): boolean {
    let oldest: [string, Caller] | undefined;
    for (const entry of this.callers) if (!oldest || entry[1].lastSeen < oldest[1].lastSeen) oldest = entry;
    if (!oldest) return false;
    oldest[1].socket.close();
    this.callers.delete(oldest[0]);
    return true;
  }

  /** The callers now: the sessions a child that just died held (for endSessions once they have played out). */
  sessions(): ReadonlySet<object> {
    return new Set(this.callers.values());
  }

  /**
   * srt-live-transmit died and forgot OBS's session: tell each of these callers (an SRT shutdown for
   * its socket id) so its media source calls the new child now, and forget them. A caller that came
   * since (OBS's input, reopened at once, already talking to the new child) is left alone.
   * Returns how many were told.
   */
  endSessions(of: ReadonlySet<object>): number {
    return this.callers.endSessions(
      (caller) => of.has(caller),
      (caller) => caller.socketId,
      this.socket,
    );
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    await this.callers.closeWith(socket);
  }
}
