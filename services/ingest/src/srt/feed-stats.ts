// What `ingest.stats` says: srt-live-transmit's per-report counters summed into totals and the change
// since the previous message, beside the feed monitor's state and rate. No I/O, no clock of its own.
import type { IngestStats } from '@irlkit/shared';
import type { FeedSnapshot } from './feed-monitor.ts';
import type { TransmitStats } from './transmit-output.ts';

type Counters = IngestStats['totals'];

/**
 * How long the picture keeps playing on OBS after a lost feed's last packet (`ingest.link`'s
 * playoutMs): the sender's data still in srt-live-transmit's receive buffer (the SRT latency in force;
 * the hop on to OBS is TCP, which holds nothing back). When the loss is srt-live-transmit itself dying
 * (killed, or hung and killed), its buffer died with it: OBS has only what the child wrote out, which ended
 * at the child's last output — long before the last packet, for a hung child.
 */
export function playoutAfterLoss(feed: {
  lastPacketTs: number | null;
  srtLatencyMs: number;
  /** When the dead child last wrote anything to OBS's feed output; absent unless the child died. */
  relayLastToObsTs?: number | null | undefined;
}): number {
  if (feed.relayLastToObsTs == null || feed.lastPacketTs === null) return feed.srtLatencyMs;
  return Math.max(0, feed.relayLastToObsTs - feed.lastPacketTs);
}

export class FeedStatistics {
  private readonly totals: Counters = { received: 0, lost: 0, dropped: 0, retransmitted: 0 };
  private published: Counters = { ...this.totals };
  /** The last report of the streamer's socket: its RTT and receive buffer while the feed lasts. */
  private latest: TransmitStats | undefined;

  /** One statistics report of srt-live-transmit's source socket (its counters are since its previous report). */
  onTransmitStats(stats: TransmitStats): void {
    this.latest = stats;
    this.totals.lost += stats.lost;
    this.totals.dropped += stats.dropped;
    this.totals.retransmitted += stats.retransmitted;
  }

  /** The SRT latency in force with the current sender, when srt-live-transmit reported it. */
  latencyMs(): number | null {
    return this.latest?.latencyMs ?? null;
  }

  /** The feed is gone: its last RTT and buffer describe nothing any more. */
  onDisconnected(): void {
    this.latest = undefined;
  }

  /** The next `ingest.stats` message; `packetsReceived` is the monitor's count of the accepted sender's data packets. */
  next(feed: FeedSnapshot, packetsReceived: number, ts: number): IngestStats {
    this.totals.received = packetsReceived;
    const deltas = {
      received: this.totals.received - this.published.received,
      lost: this.totals.lost - this.published.lost,
      dropped: this.totals.dropped - this.published.dropped,
      retransmitted: this.totals.retransmitted - this.published.retransmitted,
    };
    this.published = { ...this.totals };
    const link = feed.connected ? this.latest : undefined;
    return {
      ts,
      connected: feed.connected,
      peer: feed.peer,
      bitrateKbps: feed.bitrateKbps,
      rttMs: link ? link.rttMs : null,
      receiveBufferMs: link ? link.receiveBufferMs : null,
      latencyMs: link ? link.latencyMs : null,
      lastPacketAgeMs: feed.lastPacketAgeMs,
      totals: { ...this.totals },
      deltas,
    };
  }
}
