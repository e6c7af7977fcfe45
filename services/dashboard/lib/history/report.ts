// Stream sessions and their report, from the recorded history. Pure: records in (oldest first), sessions and
// reports out; no clock but the `now` it is given.
import { type EventPayload, type OfflineCause, offlineCause } from '@irlkit/shared/schemas';
import type { HistoryRecord } from './store';

/** A stop followed by a start within this is one session with an outage, not two sessions. */
export const SESSION_JOIN_MS = 10 * 60_000;
/** Nothing recorded for this long while streaming (the server or the recorder was down): the session ends there. */
export const SESSION_GAP_MS = 10 * 60_000;
/** Evidence this close to an outage's start tells its cause. */
const CAUSE_WINDOW_MS = 5000;
/** The report's chart keeps at most this many points. */
const CHART_POINTS = 1200;

export interface StreamSession {
  id: string;
  startTs: number;
  /** null while it goes on. */
  endTs: number | null;
}

export type Segment = 'live' | 'low' | 'offline' | 'manual' | 'stopped';
/** The switcher's OFFLINE causes, and what stops the stream. */
export type OutageCause = OfflineCause | 'platform-rejected' | 'stopped-by-hand' | 'unknown';

export const CAUSE_LABELS: Record<OutageCause, string> = {
  'no-feed': 'no feed yet',
  'sender-stalled': 'sender stalled',
  'link-lost': 'link lost',
  'picture-frozen': 'picture frozen or gone',
  'obs-restarted': 'OBS restarted',
  'platform-rejected': 'platform rejected',
  'stopped-by-hand': 'stopped by hand',
  unknown: 'unknown',
};

export interface Outage {
  startTs: number;
  endTs: number;
  durationMs: number;
  cause: OutageCause;
  detail: string;
}

export interface Percentiles {
  p5: number | null;
  p50: number | null;
  p95: number | null;
  min: number | null;
  max: number | null;
  mean: number | null;
}

export interface LinkReport {
  address: string;
  /** Mean share of the bonded traffic while the session had bonded links. */
  share: number;
  meanKbps: number;
  firstSeenTs: number;
  lastSeenTs: number;
  /** Times the link vanished (and came back or never did) during the session. */
  dropOuts: number;
}

export interface SessionReport {
  session: StreamSession;
  durationMs: number;
  timeMs: Record<Segment, number>;
  outages: Outage[];
  bitrateKbps: Percentiles;
  rttMs: Percentiles;
  packets: { lost: number; dropped: number; retransmitted: number };
  links: LinkReport[];
  switches: Array<{ ts: number; from: string; to: string; reason: string }>;
  restarts: Array<{ ts: number; what: string; detail: string }>;
  /** State bands for the chart. */
  segments: Array<{ startTs: number; endTs: number; segment: Segment }>;
  /** Bitrate and RTT over the session, at most CHART_POINTS points. */
  chart: Array<{ t: number; bitrateKbps: number; rttMs: number | null }>;
}

type Obs = EventPayload<'obs.state'>;
type Switcher = EventPayload<'switcher.state'>;

/**
 * Sessions from the recorded OBS states, fed in the order they were stored. Keeps only the sessions found and
 * the open one's three times, so it can be fed the new records since the last look.
 */
export class SessionFinder {
  private readonly ended: StreamSession[] = [];
  private startTs: number | null = null;
  private stopTs: number | null = null;
  private lastTs = 0;

  add(o: Obs): void {
    if (this.startTs !== null && this.stopTs !== null && o.ts - this.stopTs > SESSION_JOIN_MS) this.close(this.stopTs);
    else if (this.startTs !== null && this.stopTs === null && o.ts - this.lastTs > SESSION_GAP_MS) this.close(this.lastTs);
    if (o.streaming) {
      this.startTs ??= o.ts;
      this.stopTs = null;
    } else if (this.startTs !== null) this.stopTs ??= o.ts;
    this.lastTs = o.ts;
  }

  /** Oldest first; the last one open (endTs null) while it goes on. */
  sessions(now: number): StreamSession[] {
    if (this.startTs === null) return [...this.ended];
    const endTs = this.stopTs ?? (now - this.lastTs > SESSION_GAP_MS ? this.lastTs : null);
    return [...this.ended, { id: String(this.startTs), startTs: this.startTs, endTs }];
  }

  /** Forgets the sessions that ended before `ts` (their records have aged out of the history). */
  forgetEndedBefore(ts: number): void {
    const keep = this.ended.filter((s) => s.endTs === null || s.endTs >= ts);
    this.ended.splice(0, this.ended.length, ...keep);
  }

  private close(endTs: number): void {
    if (this.startTs !== null) this.ended.push({ id: String(this.startTs), startTs: this.startTs, endTs });
    this.startTs = null;
    this.stopTs = null;
  }
}

/** Sessions from the recorded OBS states (oldest first), oldest first. */
export function findSessions(obsRecords: ReadonlyArray<{ payload: Obs }>, now: number): StreamSession[] {
  const finder = new SessionFinder();
  for (const { payload } of obsRecords) finder.add(payload);
  return finder.sessions(now);
}

function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p5: null, p50: null, p95: null, min: null, max: null, mean: null };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))] as number;
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    p5: round(at(0.05)),
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    min: round(sorted[0] as number),
    max: round(sorted.at(-1) as number),
    mean: round(values.reduce((a, b) => a + b, 0) / values.length),
  };
}

/** The records within `windowMs` of `ts`, from records sorted by their timestamps (found by bisection, not a scan per outage). */
function recordsNear(records: readonly HistoryRecord[], ts: number, windowMs: number): HistoryRecord[] {
  let low = 0;
  let high = records.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((records[mid] as HistoryRecord).payload.ts < ts - windowMs) low = mid + 1;
    else high = mid;
  }
  const near: HistoryRecord[] = [];
  for (let i = low; i < records.length && (records[i] as HistoryRecord).payload.ts <= ts + windowMs; i++) near.push(records[i] as HistoryRecord);
  return near;
}

/** A bonded link is silent when nothing (not even a keepalive) came over it for this long; keepalives come once a second. */
const LINK_SILENT_MS = 2000;

/**
 * Whether the bonded links that carried the feed just before `ts` all fell silent or left in the seconds after it.
 * False when the feed was not bonded.
 */
function bondedLinksWentSilent(ts: number, records: readonly HistoryRecord[]): boolean {
  const tables = recordsNear(records, ts, CAUSE_WINDOW_MS).filter((r) => r.name === 'ingest.srtla') as Array<{ payload: EventPayload<'ingest.srtla'> }>;
  const before = tables.filter((t) => t.payload.ts <= ts && t.payload.links.length > 0).at(-1)?.payload;
  if (!before) return false;
  return tables.some(
    (t) =>
      t.payload.ts > ts &&
      before.links.every((b) => (t.payload.links.find((l) => l.address === b.address)?.lastSeenMsAgo ?? Number.POSITIVE_INFINITY) >= LINK_SILENT_MS),
  );
}

function causeOf(startTs: number, segment: Segment, switcher: Switcher | null, records: readonly HistoryRecord[]): { cause: OutageCause; detail: string } {
  const near = recordsNear(records, startTs, CAUSE_WINDOW_MS);
  const obsDown = near.some(
    (r) =>
      (r.name === 'obs.state' && !(r.payload as Obs).reachable) ||
      (r.name === 'process' &&
        (r.payload as EventPayload<'process'>).child === 'obs' &&
        ['exited', 'restarting'].includes((r.payload as EventPayload<'process'>).event)),
  );
  if (segment === 'stopped') {
    if (obsDown) return { cause: 'obs-restarted', detail: 'OBS went away and was restarted' };
    const byHand = near.find((r) => r.name === 'log' && /^Stream stopped/.test((r.payload as EventPayload<'log'>).message));
    if (byHand) return { cause: 'stopped-by-hand', detail: (byHand.payload as EventPayload<'log'>).message };
    return { cause: 'platform-rejected', detail: 'OBS stopped streaming without a command' };
  }
  const reason = switcher?.reason ?? '';
  // The switcher's own word first; OBS going away explains a feed-side reason seen at the same moment.
  const said = offlineCause(reason);
  if (said === 'picture-frozen' || said === 'no-feed' || said === 'obs-restarted') return { cause: said, detail: reason };
  if (obsDown) return { cause: 'obs-restarted', detail: 'OBS went away and was restarted' };
  // A bonded sender whose data stopped: if its links kept talking (keepalives), the sender stopped sending;
  // if every link fell silent too, the network went (a tunnel, no signal on any SIM).
  if (said === 'sender-stalled' && bondedLinksWentSilent(startTs, records)) return { cause: 'link-lost', detail: `${reason}; every bonded link went silent` };
  if (said) return { cause: said, detail: reason };
  const link = near.find((r) => r.name === 'ingest.link' && ['stalled', 'disconnected'].includes((r.payload as EventPayload<'ingest.link'>).event));
  if (link) {
    const l = link.payload as EventPayload<'ingest.link'>;
    return { cause: l.event === 'stalled' ? 'sender-stalled' : 'link-lost', detail: `feed ${l.event}: ${l.reason}` };
  }
  return { cause: 'unknown', detail: reason };
}

/**
 * The report of one session. `records` holds the session's events and samples (and the ones shortly before
 * it, for the state it started in), sorted by their timestamps.
 */
export function buildReport(session: StreamSession, records: readonly HistoryRecord[], now: number): SessionReport {
  const startTs = session.startTs;
  const endTs = session.endTs ?? now;
  // Walk the records, keeping the latest OBS and switcher state, and cut the session into segments.
  let obs: Obs | null = null;
  let switcher: Switcher | null = null;
  const segmentOf = (): Segment => {
    if (obs && !obs.streaming) return 'stopped';
    if (switcher) {
      const own = new Set(Object.values(switcher.scenes));
      if (switcher.mode === 'manual' || (obs?.programScene && !own.has(obs.programScene))) return 'manual';
      return switcher.state;
    }
    return 'live';
  };
  const segments: SessionReport['segments'] = [];
  const switches: SessionReport['switches'] = [];
  const restarts: SessionReport['restarts'] = [];
  const bitrates: number[] = [];
  const rtts: number[] = [];
  const packets = { lost: 0, dropped: 0, retransmitted: 0 };
  const chartAll: SessionReport['chart'] = [];
  const links = new Map<string, { shareSum: number; kbpsSum: number; samples: number; first: number; last: number; dropOuts: number; present: boolean }>();
  let bondedSamples = 0;
  let current: { startTs: number; segment: Segment; switcher: Switcher | null } | null = null;
  const outagesOpen: Array<{ startTs: number; segment: Segment; switcher: Switcher | null }> = [];
  const outages: Outage[] = [];
  const isOutage = (s: Segment) => s === 'offline' || s === 'stopped';

  const moveTo = (ts: number) => {
    const at = Math.min(Math.max(ts, startTs), endTs);
    const segment = segmentOf();
    if (!current) {
      current = { startTs: at, segment, switcher };
      if (isOutage(segment)) outagesOpen.push({ startTs: at, segment, switcher });
      return;
    }
    if (segment === current.segment) return;
    if (at > current.startTs) segments.push({ startTs: current.startTs, endTs: at, segment: current.segment });
    const wasOut = isOutage(current.segment);
    const nowOut = isOutage(segment);
    if (!wasOut && nowOut) outagesOpen.push({ startTs: at, segment, switcher });
    if (wasOut && !nowOut) {
      const open = outagesOpen.pop();
      if (open)
        outages.push({ startTs: open.startTs, endTs: at, durationMs: at - open.startTs, ...causeOf(open.startTs, open.segment, open.switcher, records) });
    }
    current = { startTs: at, segment, switcher };
  };

  for (const record of records) {
    const ts = record.payload.ts;
    const inside = ts >= startTs && ts <= endTs;
    switch (record.name) {
      case 'obs.state': {
        obs = record.payload as Obs;
        if (ts >= startTs) moveTo(ts);
        break;
      }
      case 'switcher.state': {
        const s = record.payload as Switcher;
        if (switcher && switcher.state !== s.state && s.since >= startTs && s.since <= endTs) {
          switches.push({ ts: s.since, from: switcher.state, to: s.state, reason: s.reason });
        }
        switcher = s;
        // The switcher tells when its state began; that is when viewers saw it change.
        if (s.since >= startTs || ts >= startTs) moveTo(Math.max(s.since, startTs));
        break;
      }
      case 'process': {
        const p = record.payload as EventPayload<'process'>;
        if (inside && (p.event === 'exited' || p.event === 'restarting'))
          restarts.push({ ts, what: p.child, detail: p.detail ?? p.signal ?? (p.exitCode !== null ? `exit code ${p.exitCode}` : p.event) });
        break;
      }
      case 'log': {
        const entry = record.payload as EventPayload<'log'>;
        if (inside && / restarted by hand$/.test(entry.message)) restarts.push({ ts, what: 'feed', detail: entry.message });
        break;
      }
      case 'ingest.stats': {
        if (!inside) break;
        const s = record.payload as EventPayload<'ingest.stats'>;
        packets.lost += s.deltas.lost;
        packets.dropped += s.deltas.dropped;
        packets.retransmitted += s.deltas.retransmitted;
        if (s.connected) {
          bitrates.push(s.bitrateKbps);
          if (s.rttMs !== null) rtts.push(s.rttMs);
        }
        chartAll.push({ t: ts, bitrateKbps: s.connected ? s.bitrateKbps : 0, rttMs: s.rttMs });
        break;
      }
      case 'ingest.srtla': {
        if (!inside) break;
        const s = record.payload as EventPayload<'ingest.srtla'>;
        if (s.links.length > 0) bondedSamples += 1;
        const here = new Set<string>();
        for (const link of s.links) {
          here.add(link.address);
          const known = links.get(link.address) ?? { shareSum: 0, kbpsSum: 0, samples: 0, first: ts, last: ts, dropOuts: 0, present: true };
          if (!known.present) known.present = true;
          known.shareSum += link.share;
          known.kbpsSum += link.bitrateKbps;
          known.samples += 1;
          known.last = ts;
          links.set(link.address, known);
        }
        for (const [address, known] of links) {
          if (known.present && !here.has(address)) {
            known.present = false;
            known.dropOuts += 1;
          }
        }
        break;
      }
      default:
        break;
    }
  }
  moveTo(endTs);
  const last = current as { startTs: number; segment: Segment } | null;
  if (last && endTs > last.startTs) segments.push({ startTs: last.startTs, endTs, segment: last.segment });
  // An outage still open at the end: a stop by hand ending the session is no outage; one still going on is.
  const open = outagesOpen.pop();
  if (open && !(open.segment === 'stopped' && session.endTs !== null)) {
    outages.push({ startTs: open.startTs, endTs, durationMs: endTs - open.startTs, ...causeOf(open.startTs, open.segment, open.switcher, records) });
  }
  const timeMs: Record<Segment, number> = { live: 0, low: 0, offline: 0, manual: 0, stopped: 0 };
  for (const s of segments) timeMs[s.segment] += s.endTs - s.startTs;
  const step = Math.max(1, Math.ceil(chartAll.length / CHART_POINTS));
  return {
    session,
    durationMs: endTs - startTs,
    timeMs,
    outages,
    bitrateKbps: percentiles(bitrates),
    rttMs: percentiles(rtts),
    packets,
    links: [...links].map(([address, l]) => ({
      address,
      share: bondedSamples ? Math.round((l.shareSum / bondedSamples) * 1000) / 1000 : 0,
      meanKbps: Math.round(l.kbpsSum / Math.max(1, l.samples)),
      firstSeenTs: l.first,
      lastSeenTs: l.last,
      dropOuts: l.dropOuts,
    })),
    switches,
    restarts,
    segments,
    chart: chartAll.filter((_, i) => i % step === 0),
  };
}

/** The report as CSV: one section per table, for a spreadsheet. */
export function reportCsv(report: SessionReport): string {
  const iso = (ts: number) => new Date(ts).toISOString();
  const cell = (v: unknown) => {
    const text = v === null || v === undefined ? '' : String(v);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const rows: unknown[][] = [
    ['session', report.session.id],
    ['start', iso(report.session.startTs)],
    ['end', report.session.endTs === null ? 'ongoing' : iso(report.session.endTs)],
    ['duration_s', Math.round(report.durationMs / 1000)],
    ...Object.entries(report.timeMs).map(([k, v]) => [`${k}_s`, Math.round(v / 100) / 10]),
    ['bitrate_kbps_p5', report.bitrateKbps.p5],
    ['bitrate_kbps_p50', report.bitrateKbps.p50],
    ['bitrate_kbps_p95', report.bitrateKbps.p95],
    ['rtt_ms_p50', report.rttMs.p50],
    ['rtt_ms_p95', report.rttMs.p95],
    ['packets_lost', report.packets.lost],
    ['packets_dropped', report.packets.dropped],
    [],
    ['outage_start', 'outage_end', 'duration_s', 'cause', 'detail'],
    ...report.outages.map((o) => [iso(o.startTs), iso(o.endTs), Math.round(o.durationMs / 100) / 10, CAUSE_LABELS[o.cause], o.detail]),
    [],
    ['link', 'share', 'mean_kbps', 'first_seen', 'last_seen', 'drop_outs'],
    ...report.links.map((l) => [l.address, l.share, l.meanKbps, iso(l.firstSeenTs), iso(l.lastSeenTs), l.dropOuts]),
    [],
    ['switch_time', 'from', 'to', 'reason'],
    ...report.switches.map((s) => [iso(s.ts), s.from, s.to, s.reason]),
    [],
    ['restart_time', 'what', 'detail'],
    ...report.restarts.map((r) => [iso(r.ts), r.what, r.detail]),
  ];
  return `${rows.map((r) => r.map(cell).join(',')).join('\n')}\n`;
}
