// The dashboard server's memory of recent events, so a page opened at any moment shows the latest
// state, the recent timeline and the last five minutes of the chart at once instead of an empty page.
import { type Bus, EVENT_NAMES, type EventName, type EventPayload } from '@irlkit/shared';

const TIMELINE_ENTRIES = 50;
const CHART_WINDOW_MS = 5 * 60_000;
/** The chart history keeps one statistics sample a second (ingest publishes four). */
const CHART_SAMPLE_MS = 1000;

export interface RememberedEvent {
  name: EventName;
  payload: unknown;
}

export interface Snapshot {
  /** The server's clock when the snapshot was taken, so the page can tell how old each event is. */
  serverNow: number;
  /** Oldest first, in the order the page should apply them. */
  events: RememberedEvent[];
}

function tsOf(payload: unknown): number {
  return (payload as { ts: number }).ts;
}

export class EventMemory {
  private readonly latest = new Map<EventName, unknown>();
  /** Kinds heard live since this process started (the history never overrides them). */
  private readonly live = new Set<EventName>();
  private readonly timeline: RememberedEvent[] = [];
  private readonly chart: Array<{ ts: number; payload: unknown }> = [];
  private readonly unsubscribes: Array<() => void> = [];
  private readonly listeners = new Set<(event: RememberedEvent) => void>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Follows every event of the stream on the given bus. */
  follow(bus: Bus): void {
    for (const name of EVENT_NAMES) {
      if (name === 'heartbeat') continue;
      this.unsubscribes.push(bus.subscribe(name, (payload) => this.remember(name, payload)));
    }
  }

  remember<N extends EventName>(name: N, payload: EventPayload<N>): void {
    this.store(name, payload);
    for (const listener of this.listeners) listener({ name, payload });
  }

  /**
   * The snapshot, and every event remembered after it, to `listener`: both in one turn, so a page
   * neither misses an event that arrives between the two nor gets one twice. (A NATS subscription
   * of each page's own would miss a message already on its way to this process's other subscription.)
   */
  subscribe(listener: (event: RememberedEvent) => void): { snapshot: Snapshot; unsubscribe: () => void } {
    this.listeners.add(listener);
    return { snapshot: this.snapshot(), unsubscribe: () => this.listeners.delete(listener) };
  }

  /**
   * Adds what the history holds from before this process followed the stream (a restart): older timeline
   * entries and chart samples, and the latest state of each kind nothing live has told yet.
   */
  restore(records: ReadonlyArray<{ name: EventName; payload: unknown }>): void {
    const seen = new Set(this.timeline.map((e) => JSON.stringify(e)));
    const olderTimeline = records.filter((r) => (r.name === 'log' || r.name === 'process') && !seen.has(JSON.stringify(r)));
    const merged = [...olderTimeline, ...this.timeline].sort((a, b) => tsOf(a.payload) - tsOf(b.payload));
    this.timeline.splice(0, this.timeline.length, ...merged.slice(-TIMELINE_ENTRIES));
    const firstChartTs = this.chart[0]?.ts ?? Number.POSITIVE_INFINITY;
    const olderChart: Array<{ ts: number; payload: unknown }> = [];
    for (const r of records) {
      if (r.name !== 'ingest.stats') continue;
      const ts = tsOf(r.payload);
      const last = olderChart.at(-1);
      if (ts < firstChartTs && (!last || ts - last.ts >= CHART_SAMPLE_MS * 0.9)) olderChart.push({ ts, payload: r.payload });
    }
    this.chart.unshift(...olderChart);
    const newest = this.chart.at(-1)?.ts ?? 0;
    while (this.chart.length > 0 && newest - (this.chart[0] as { ts: number }).ts > CHART_WINDOW_MS) this.chart.shift();
    for (const r of records) {
      if (r.name === 'log' || r.name === 'process' || this.live.has(r.name)) continue;
      this.latest.set(r.name, r.payload);
    }
  }

  private store<N extends EventName>(name: N, payload: EventPayload<N>): void {
    this.live.add(name);
    if (name === 'log' || name === 'process') {
      this.timeline.push({ name, payload });
      if (this.timeline.length > TIMELINE_ENTRIES) this.timeline.shift();
      return;
    }
    this.latest.set(name, payload);
    if (name === 'ingest.stats') {
      const ts = (payload as EventPayload<'ingest.stats'>).ts;
      const last = this.chart.at(-1);
      if (!last || ts - last.ts >= CHART_SAMPLE_MS) this.chart.push({ ts, payload });
      while (this.chart.length > 0 && ts - (this.chart[0] as { ts: number }).ts > CHART_WINDOW_MS) this.chart.shift();
    }
  }

  private snapshot(): Snapshot {
    const latestStats = this.latest.get('ingest.stats');
    const chart = this.chart.map((c) => c.payload).filter((p) => p !== latestStats);
    const events: RememberedEvent[] = [
      ...chart.map((payload) => ({ name: 'ingest.stats' as const, payload })),
      ...this.timeline,
      ...[...this.latest].map(([name, payload]) => ({ name, payload })),
    ];
    return { serverNow: this.now(), events };
  }

  stop(): void {
    this.listeners.clear();
    for (const u of this.unsubscribes.splice(0)) u();
  }
}
