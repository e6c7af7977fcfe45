// The truth about the streamer's feed: connected / stalled / disconnected and the receive rate,
// decided from datagram arrival times (exact to the packet) and srt-live-transmit's connection news.
// No I/O: the clock and timers are injected, so it runs on a fake clock in tests.

export type FeedState = 'disconnected' | 'connected' | 'stalled';

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface FeedLinkEvent {
  event: 'connected' | 'disconnected' | 'stalled' | 'resumed';
  peer: string | null;
  reason: string;
  lastPacketTs: number | null;
  ts: number;
}

export interface FeedMonitorOptions {
  /** No data packet for this long while connected → stalled. */
  stallTimeoutMs: number;
  /** No packet at all for this long → disconnected, even if srt-live-transmit has not said so yet. */
  disconnectTimeoutMs: number;
  /** Window of the receive-rate average. */
  bitrateWindowMs: number;
}

/** The feed as `ingest.stats` reports it. */
export interface FeedSnapshot {
  state: FeedState;
  connected: boolean;
  peer: string | null;
  bitrateKbps: number;
  lastPacketAgeMs: number | null;
}

const BUCKET_MS = 50;

export class FeedMonitor {
  private state: FeedState = 'disconnected';
  private sourceAccepted = false;
  /**
   * Which sender srt-live-transmit accepted (the loopback port it sees), learnt from where it sends
   * its ACKs and keepalives: only an accepted connection gets those, so no handshake flood can pose as
   * it. Once known, only that sender's packets count: a stranger's datagrams can neither keep a dead
   * feed alive nor end a live one. Until it is known, nobody's packets count.
   */
  private acceptedSource: number | undefined;
  /** A sender srt-live-transmit answered before its "Accepted" line was read (the pipe can be slower than UDP). */
  private answeredSource: number | undefined;
  /**
   * The sender whose connection just ended. srt-live-transmit can still answer it for a moment (an ACK
   * sent before it read the goodbye, read here after its "disconnected" line): that answer must not
   * name the next sender, whose packets would then all count as a stranger's. Forgiven when that
   * sender asks for a new connection.
   */
  private endedSource: number | undefined;
  private peer: string | null = null;
  private lastDataTs: number | null = null;
  private lastAnyTs: number | null = null;
  /** When srt-live-transmit accepted the connection now on: the stall timeout runs from here at the earliest. */
  private acceptedAt: number | null = null;
  private stallTimer: unknown;
  private disconnectTimer: unknown;
  /** Receive-rate buckets: [bucket start ms, payload bytes]. */
  private readonly buckets: Array<[number, number]> = [];
  packetsReceived = 0;
  bytesReceived = 0;
  /** Datagrams from senders other than the accepted one, ignored for the feed's state. */
  foreignDatagrams = 0;

  constructor(
    private readonly options: FeedMonitorOptions,
    private readonly clock: Clock,
    private readonly onLink: (event: FeedLinkEvent) => void,
  ) {}

  get feedState(): FeedState {
    return this.state;
  }

  /** Every datagram the streamer's side sent, as it arrives; `source` names the sender as srt-live-transmit sees it. */
  onDatagram(peer: string, payloadBytes: number, kind: 'data' | 'control', source?: number): void {
    if (this.isForeign(source)) {
      this.foreignDatagrams += 1;
      return;
    }
    if (this.awaitingIdentity(source)) return;
    const now = this.clock.now();
    this.lastAnyTs = now;
    this.armDisconnectTimer();
    if (kind !== 'data') return;
    this.packetsReceived += 1;
    this.bytesReceived += payloadBytes;
    this.addBytes(now, payloadBytes);
    this.lastDataTs = now;
    this.peer = peer;
    if (this.state === 'stalled') {
      this.transition('connected', 'resumed', 'data flowing again', now);
    } else if (this.state === 'disconnected' && this.sourceAccepted) {
      this.transition('connected', 'connected', 'SRT connection accepted', now);
    }
    if (this.stallTimer === undefined && this.state === 'connected') this.armStallTimer(now);
  }

  /** srt-live-transmit said it accepted a connection; which sender it was comes from onListenerAnswer. */
  onSourceAccepted(): void {
    this.sourceAccepted = true;
    this.acceptedSource = this.answeredSource;
    const now = this.clock.now();
    if (this.state === 'disconnected' && this.lastDataTs !== null && now - this.lastDataTs < this.options.stallTimeoutMs) {
      // A new connection gets a whole stall timeout for its first data, not what the last one left of it.
      this.acceptedAt = now;
      this.transition('connected', 'connected', 'SRT connection accepted', now);
      this.armStallTimer(now);
    }
  }

  /** srt-live-transmit sent an ACK, NAK or keepalive to the sender behind this loopback port. */
  onListenerAnswer(source: number): void {
    if (this.acceptedSource !== undefined || source === this.endedSource) return;
    if (this.sourceAccepted) this.acceptedSource = source;
    else this.answeredSource = source;
  }

  /** The sender behind this loopback port sent srt-live-transmit a conclusion handshake: a new connection. */
  onConnectionRequest(source: number): void {
    if (source === this.endedSource) this.endedSource = undefined;
  }

  /** A sender said goodbye (SRT shutdown). Only the accepted sender can end the feed this way. */
  onShutdown(reason: string, source?: number): void {
    if (this.isForeign(source)) {
      this.foreignDatagrams += 1;
      return;
    }
    this.onDisconnected(reason);
  }

  /** The connection is gone: srt-live-transmit said so, the sender shut down, or the relay died. */
  onDisconnected(reason: string): void {
    this.endedSource = this.acceptedSource ?? this.answeredSource ?? this.endedSource;
    this.sourceAccepted = false;
    this.acceptedSource = undefined;
    this.answeredSource = undefined;
    if (this.state !== 'disconnected') this.transition('disconnected', 'disconnected', reason, this.clock.now());
    this.clearTimers();
  }

  /** Whether srt-live-transmit accepted the sender behind this loopback port. */
  isAcceptedSource(source: number): boolean {
    return this.acceptedSource === source;
  }

  /** Whether srt-live-transmit has accepted a sender, and this datagram's source is that sender. */
  countsAsAccepted(source: number | undefined): boolean {
    return this.sourceAccepted && !this.isForeign(source);
  }

  private isForeign(source: number | undefined): boolean {
    return this.acceptedSource !== undefined && source !== undefined && source !== this.acceptedSource;
  }

  /** Accepted, but srt-live-transmit has not yet answered anyone: a named sender's packets wait (milliseconds). */
  private awaitingIdentity(source: number | undefined): boolean {
    return this.sourceAccepted && this.acceptedSource === undefined && source !== undefined;
  }

  bitrateKbps(): number {
    const now = this.clock.now();
    const from = now - this.options.bitrateWindowMs;
    while (this.buckets.length && (this.buckets[0] as [number, number])[0] + BUCKET_MS <= from) this.buckets.shift();
    let bytes = 0;
    for (const [, b] of this.buckets) bytes += b;
    return Math.round((bytes * 8) / this.options.bitrateWindowMs);
  }

  snapshot(): FeedSnapshot {
    const now = this.clock.now();
    return {
      state: this.state,
      connected: this.state !== 'disconnected',
      peer: this.peer,
      bitrateKbps: this.state === 'disconnected' && this.lastDataTs === null ? 0 : this.bitrateKbps(),
      lastPacketAgeMs: this.lastDataTs === null ? null : now - this.lastDataTs,
    };
  }

  stop(): void {
    this.clearTimers();
  }

  private addBytes(now: number, bytes: number): void {
    const start = now - (now % BUCKET_MS);
    const last = this.buckets[this.buckets.length - 1];
    if (last && last[0] === start) last[1] += bytes;
    else this.buckets.push([start, bytes]);
  }

  private transition(to: FeedState, event: FeedLinkEvent['event'], reason: string, now: number): void {
    this.state = to;
    this.onLink({ event, peer: this.peer, reason, lastPacketTs: this.lastDataTs, ts: now });
  }

  /** Fires exactly stallTimeoutMs after the last data packet, re-arming itself if data came meanwhile. */
  private armStallTimer(now: number): void {
    if (this.stallTimer !== undefined) this.clock.clearTimeout(this.stallTimer);
    const due = Math.max(this.lastDataTs ?? now, this.acceptedAt ?? 0) + this.options.stallTimeoutMs - now;
    this.stallTimer = this.clock.setTimeout(
      () => {
        this.stallTimer = undefined;
        if (this.state !== 'connected' || this.lastDataTs === null) return;
        const t = this.clock.now();
        if (t - Math.max(this.lastDataTs, this.acceptedAt ?? 0) >= this.options.stallTimeoutMs) {
          this.transition('stalled', 'stalled', `no data for ${t - this.lastDataTs} ms`, t);
        } else this.armStallTimer(t);
      },
      Math.max(0, due),
    );
  }

  private armDisconnectTimer(): void {
    if (this.disconnectTimer !== undefined) return;
    const check = () => {
      this.disconnectTimer = undefined;
      if (this.state === 'disconnected' || this.lastAnyTs === null) return;
      const silentMs = this.clock.now() - this.lastAnyTs;
      if (silentMs >= this.options.disconnectTimeoutMs) {
        this.onDisconnected(`no packet for ${Math.round(silentMs / 100) / 10} s`);
      } else {
        this.disconnectTimer = this.clock.setTimeout(check, this.options.disconnectTimeoutMs - silentMs);
      }
    };
    this.disconnectTimer = this.clock.setTimeout(check, this.options.disconnectTimeoutMs);
  }

  private clearTimers(): void {
    if (this.stallTimer !== undefined) this.clock.clearTimeout(this.stallTimer);
    if (this.disconnectTimer !== undefined) this.clock.clearTimeout(this.disconnectTimer);
    this.stallTimer = undefined;
    this.disconnectTimer = undefined;
  }
}
