// What the bot says: the `!bitrate` answer from the latest statistics, switch announcements, and the
// reply budget that keeps a chat flood from getting the bot rate-limited or banned. Pure.
import type { IngestSrtla, IngestStats, RestreamState, SwitcherState } from '@irlkit/shared';

/** Statistics older than this count as none: ingest publishes several a second while it runs. */
export const STATS_STALE_MS = 5000;

export function bitrateReply(stats: IngestStats | undefined, srtla: IngestSrtla | undefined, now: number, restream?: RestreamState): string {
  const out = destinationsPart(restream, now);
  if (!stats || now - stats.ts > STATS_STALE_MS) return 'No statistics from ingest (is it running?)';
  if (!stats.connected) return `Feed offline: no sender connected${out ? ` | ${out}` : ''}`;
  const parts = [`Feed ${Math.round(stats.bitrateKbps)} kbps`];
  if (stats.rttMs !== null) parts.push(`RTT ${Math.round(stats.rttMs)} ms`);
  const fresh = srtla && now - srtla.ts <= STATS_STALE_MS ? srtla.links : [];
  if (fresh.length > 0) {
    const links = fresh.map((l) => `${l.address} ${Math.round(l.share * 100)}% ${Math.round(l.bitrateKbps)} kbps`);
    parts.push(`links: ${links.join(', ')}`);
  }
  if (out) parts.push(out);
  return parts.join(' | ');
}

/** "out: Twitch 2650 kbps, Kick down" while the program is on the relay; nothing otherwise. */
function destinationsPart(restream: RestreamState | undefined, now: number): string | null {
  if (!restream?.programLive || now - restream.ts > STATS_STALE_MS) return null;
  const enabled = restream.destinations.filter((d) => d.enabled);
  if (enabled.length === 0) return null;
  const word = (d: RestreamState['destinations'][number]) =>
    d.status === 'connected' ? `${d.name} ${Math.round(d.bitrateKbps)} kbps` : d.status === 'connecting' ? `${d.name} connecting` : `${d.name} down`;
  return `out: ${enabled.map(word).join(', ')}`;
}

/**
 * The chat line for a switcher change, or null when there is nothing to say (same state, manual mode,
 * first state seen after start).
 */
export function switchAnnouncement(previous: SwitcherState | undefined, next: SwitcherState): string | null {
  if (!previous || previous.state === next.state || next.mode !== 'auto') return null;
  const scenes = next.scenes;
  if (next.state === 'offline') return `Feed lost, on ${scenes.offline}`;
  if (next.state === 'low') return `Low bitrate, on ${scenes.low}`;
  const seconds = Math.max(0, Math.round((next.since - previous.since) / 1000));
  return `Back ${scenes.live} after ${seconds} s`;
}

/** At most `perWindow` replies in any `windowMs`; what does not fit is dropped, never queued for later. */
export class ReplyBudget {
  private readonly sent: number[] = [];
  dropped = 0;

  constructor(
    private readonly perWindow: number,
    private readonly windowMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  take(): boolean {
    const t = this.now();
    while (this.sent.length > 0 && t - (this.sent[0] as number) >= this.windowMs) this.sent.shift();
    if (this.sent.length >= this.perWindow) {
      this.dropped += 1;
      return false;
    }
    this.sent.push(t);
    return true;
  }
}
