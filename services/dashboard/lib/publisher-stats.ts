// The feed's statistics in the shapes other IRL tools already read, so NOALBS and SRT stats monitors can be
// pointed at irlkit unchanged. Pure: built from the latest `ingest.stats` / `ingest.srtla` messages.
//
// OpenIRL shape: OpenIRL/srt-live-server src/core/SLSManager.cpp, `generate_json_for_publisher` and
// `create_json_stats_for_publisher`: `{"status":"ok","publisher":{bitrate (kbps), rtt (ms), dropped_pkts,
// buffer (ms), latency (ms), uptime (s)}}`, or `{"status":"ok","message":"Publisher is currently not
// streaming"}`; bonded publishers carry `peers` instead of a single RTT, as NOALBS's reader of that type
// expects (NOALBS src/stream_servers/openirl.rs, `Stat` and `Peer`: every peer has `bitrate` and `rtt`, and
// peers with a negative RTT are left out of its average).
// SRT Live Server shape (`?legacy=1`): the same file's `create_legacy_json_stats_for_publisher` (OpenIRL's
// legacy output keys the publisher `live`), read by NOALBS's `SrtLiveServer` type as
// `data["publishers"][<publisher>]` with bitrate, bytesRcvDrop, bytesRcvLoss, mbpsBandwidth, mbpsRecvRate,
// msRcvBuf, pktRcvDrop, pktRcvLoss, rtt, uptime all required (NOALBS src/stream_servers/sls.rs).
import type { Bus, IngestSrtla, IngestStats } from '@irlkit/shared';

/** ingest publishes several times a second; older statistics mean ingest is gone, not a live feed. */
export const STATS_STALE_MS = 5000;
/** SRT live mode's payload per packet (1316 = 7 × 188-byte TS packets): lost bytes are counted from packets. */
const SRT_LIVE_PAYLOAD_BYTES = 1316;
export const NOT_STREAMING = 'Publisher is currently not streaming';

export interface PublisherView {
  stats: IngestStats | undefined;
  srtla: IngestSrtla | undefined;
  /** When the current sender connected, or null. */
  connectedSince: number | null;
  /** The SRT stream id the sender asked for, when it sent one. */
  streamId?: string | null;
}

function live(view: PublisherView, now: number): IngestStats | undefined {
  const { stats } = view;
  return stats?.connected && now - stats.ts <= STATS_STALE_MS ? stats : undefined;
}

const uptimeS = (view: PublisherView, now: number) => (view.connectedSince === null ? 0 : Math.max(0, Math.floor((now - view.connectedSince) / 1000)));

export function openIrlStats(view: PublisherView, now: number) {
  const stats = live(view, now);
  if (!stats) return { status: 'ok' as const, message: NOT_STREAMING };
  const links = view.srtla && now - view.srtla.ts <= STATS_STALE_MS ? view.srtla.links : [];
  return {
    status: 'ok' as const,
    publisher: {
      bitrate: Math.round(stats.bitrateKbps),
      ...(stats.rttMs === null ? {} : { rtt: stats.rttMs }),
      dropped_pkts: stats.totals.dropped,
      buffer: Math.round(stats.receiveBufferMs ?? 0),
      latency: stats.latencyMs ?? null,
      uptime: uptimeS(view, now),
      ...(links.length > 0
        ? {
            peers: links.map((l) => ({
              connection_id: l.address,
              bitrate: Math.round(l.bitrateKbps),
              rtt: l.rttMs ?? -1,
              uptime: Math.max(0, Math.floor((now - l.registeredAt) / 1000)),
            })),
          }
        : {}),
    },
  };
}

export function srtLiveServerStats(view: PublisherView, now: number) {
  const stats = live(view, now);
  if (!stats) return { status: 'ok' as const, publishers: {}, message: NOT_STREAMING };
  const recvMbps = stats.bitrateKbps / 1000;
  const publisher = {
    bitrate: Math.round(stats.bitrateKbps),
    bytesRcvDrop: stats.totals.dropped * SRT_LIVE_PAYLOAD_BYTES,
    bytesRcvLoss: stats.totals.lost * SRT_LIVE_PAYLOAD_BYTES,
    // irlkit does not probe the link's capacity: the bandwidth reported is what arrives.
    mbpsBandwidth: recvMbps,
    mbpsRecvRate: recvMbps,
    msRcvBuf: Math.round(stats.receiveBufferMs ?? 0),
    pktRcvDrop: stats.totals.dropped,
    pktRcvLoss: stats.totals.lost,
    rtt: stats.rttMs ?? 0,
    uptime: uptimeS(view, now),
    latency: stats.latencyMs ?? null,
  };
  // `live` as OpenIRL's legacy output names it; the sender's own stream id too, as SRT Live Server keys it.
  const keys = ['live', ...(view.streamId && view.streamId !== 'live' ? [view.streamId] : [])];
  return { status: 'ok' as const, publishers: Object.fromEntries(keys.map((k) => [k, publisher])) };
}

/** Follows `ingest.stats` to know since when the current sender is connected (the `uptime` field). */
export class PublisherTracker {
  stats: IngestStats | undefined;
  srtla: IngestSrtla | undefined;
  connectedSince: number | null = null;

  onStats(stats: IngestStats): void {
    if (stats.connected && (this.connectedSince === null || !this.stats?.connected)) this.connectedSince = stats.ts;
    if (!stats.connected) this.connectedSince = null;
    this.stats = stats;
  }

  onSrtla(srtla: IngestSrtla): void {
    this.srtla = srtla;
  }

  follow(bus: Bus): () => void {
    const stopStats = bus.subscribe('ingest.stats', (s) => this.onStats(s));
    const stopSrtla = bus.subscribe('ingest.srtla', (s) => this.onSrtla(s));
    return () => {
      stopStats();
      stopSrtla();
    };
  }

  view(): PublisherView {
    return { stats: this.stats, srtla: this.srtla, connectedSince: this.connectedSince, streamId: this.stats?.streamId ?? null };
  }
}
