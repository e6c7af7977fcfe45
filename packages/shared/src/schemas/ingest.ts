// Payloads the ingest service publishes: SRT statistics, link events, SRTLA link table.
import { z } from 'zod';
import { count, kbps, peerAddress, timestampMs } from './common.ts';

export const packetCounters = z.strictObject({
  received: count,
  lost: count,
  dropped: count,
  retransmitted: count,
});

export const ingestStats = z.strictObject({
  ts: timestampMs,
  connected: z.boolean(),
  peer: peerAddress.nullable(),
  /** Receive rate over a short sliding window. */
  bitrateKbps: kbps,
  rttMs: z.number().nonnegative().finite().nullable(),
  /** Data waiting in SRT's receive buffer, in ms. */
  receiveBufferMs: z.number().nonnegative().finite().nullable(),
  /** The SRT stream id the connected sender asked for (publish/live/<name>, live_<key>, publish:<path> …). */
  streamId: z.string().max(512).nullable().optional(),
  /** SRT latency agreed with the sender (TSBPD delay), in ms; absent from older publishers. */
  latencyMs: z.number().nonnegative().finite().nullable().optional(),
  /** Time since the last packet arrived from the sender. */
  lastPacketAgeMs: z.number().nonnegative().finite().nullable(),
  totals: packetCounters,
  /** Change since the previous stats message. */
  deltas: packetCounters,
});
export type IngestStats = z.infer<typeof ingestStats>;

export const ingestLinkEvent = z.enum(['connected', 'disconnected', 'stalled', 'resumed', 'rejected']);
export const ingestLink = z.strictObject({
  ts: timestampMs,
  event: ingestLinkEvent,
  peer: peerAddress.nullable(),
  reason: z.string().max(500),
  /** When the last packet arrived (for stalled/disconnected). */
  lastPacketTs: timestampMs.nullable(),
  /**
   * How long the feed keeps playing after its last packet: the SRT receive latency (as negotiated
   * with the sender) plus the output hop's latency to OBS; when srt-live-transmit itself died, only
   * what it had sent OBS (the output latency after its last datagram to OBS, 0 if that ran dry
   * before the last packet). Absent from older publishers.
   */
  playoutMs: z.number().int().nonnegative().max(120_000).nullable().optional(),
  /**
   * The SRT receive latency in force (for stalled/disconnected): packets arriving later than this after
   * their sending are dropped, so a feed that resumes later than this after its last packet has a hole.
   * Absent from older publishers.
   */
  srtLatencyMs: z.number().int().nonnegative().max(120_000).nullable().optional(),
  /**
   * On `connected`: ingest cut OBS's reading of this feed off since the last connection (srt-live-transmit died): its
   * connection carries nothing more and is closed after a grace, and OBS's restart would keep that dead connection,
   * so the switcher opens a fresh player, which replaces it. Absent otherwise.
   */
  obsSessionEnded: z.literal(true).optional(),
});
export type IngestLink = z.infer<typeof ingestLink>;

export const srtlaLink = z.strictObject({
  group: z.string().min(1).max(64),
  address: peerAddress,
  bitrateKbps: kbps,
  /** Share of the group's traffic in the last second, 0..1. */
  share: z.number().min(0).max(1),
  packets: count,
  lastSeenMsAgo: z.number().nonnegative().finite(),
  registeredAt: timestampMs,
  rttMs: z.number().nonnegative().finite().nullable(),
});
export type SrtlaLink = z.infer<typeof srtlaLink>;

export const ingestSrtla = z.strictObject({
  ts: timestampMs,
  groups: count,
  links: z.array(srtlaLink).max(1024),
  /** Datagrams dropped since start, by reason. */
  drops: z.record(z.string().max(64), count),
});
export type IngestSrtla = z.infer<typeof ingestSrtla>;
