// What the control room knows, built from the stream's events: one handler per event name, replayed
// the same way from the server's snapshot and live. Pure: no React, no clock of its own.
import type { EventName, EventPayload, LogEntry, ProcessEvent } from '@irlkit/shared';

/** How much of the chart the page keeps. */
export const CHART_WINDOW_MS = 5 * 60_000;
const TIMELINE_ENTRIES = 50;

export interface ChartPoint {
  t: number;
  bitrate: number;
  rtt: number | null;
  loss: number;
}

export interface LiveState {
  obs: EventPayload<'obs.state'> | null;
  switcher: EventPayload<'switcher.state'> | null;
  stats: EventPayload<'ingest.stats'> | null;
  /** When the latest stats sample was taken, on this browser's clock: remembered samples are not fresh. */
  statsTakenAt: number;
  link: EventPayload<'ingest.link'> | null;
  srtla: EventPayload<'ingest.srtla'> | null;
  screenshot: EventPayload<'obs.screenshot'> | null;
  timeline: LogEntry[];
  points: ChartPoint[];
  /** Latest state of each container the bridge's watchdog follows (compose deployments only). */
  containers: Record<string, ProcessEvent>;
  /** Every destination's health (the restream service). */
  restream: EventPayload<'restream.state'> | null;
  recording: EventPayload<'recording.state'> | null;
}

export const initialLiveState: LiveState = {
  obs: null,
  switcher: null,
  stats: null,
  statsTakenAt: 0,
  link: null,
  srtla: null,
  screenshot: null,
  timeline: [],
  points: [],
  containers: {},
  restream: null,
  recording: null,
};

export type LiveAction =
  | { type: 'event'; name: EventName; payload: unknown; receivedAt: number; serverClockOffsetMs: number }
  /** A new connection's snapshot is about to replay: the lists start over. */
  | { type: 'replay' };

type Handler<N extends EventName> = (state: LiveState, payload: EventPayload<N>, clock: { receivedAt: number; serverClockOffsetMs: number }) => LiveState;

const onTimeline = (state: LiveState, entry: LogEntry): LiveState => ({ ...state, timeline: [entry, ...state.timeline].slice(0, TIMELINE_ENTRIES) });

const handlers: { [N in EventName]: Handler<N> } = {
  'obs.state': (state, obs) => ({ ...state, obs }),
  'switcher.state': (state, switcher) => ({ ...state, switcher }),
  'ingest.link': (state, link) => ({ ...state, link }),
  'ingest.srtla': (state, srtla) => ({ ...state, srtla }),
  'obs.screenshot': (state, screenshot) => ({ ...state, screenshot }),
  log: onTimeline,
  process: (state, event) =>
    onTimeline(event.kind === 'container' ? { ...state, containers: { ...state.containers, [event.child]: event } } : state, {
      ts: event.ts,
      level: event.event === 'exited' ? 'error' : 'info',
      source: event.service,
      message: `${event.child} ${event.event}${event.restartInMs ? ` (restart in ${event.restartInMs} ms)` : ''}`,
    }),
  'ingest.stats': (state, stats, { receivedAt, serverClockOffsetMs }) => ({
    ...state,
    stats,
    statsTakenAt: Math.min(receivedAt, stats.ts + serverClockOffsetMs),
    points: [
      ...state.points.filter((p) => stats.ts - p.t < CHART_WINDOW_MS),
      { t: stats.ts, bitrate: stats.bitrateKbps, rtt: stats.rttMs, loss: stats.deltas.lost + stats.deltas.dropped },
    ],
  }),
  'restream.state': (state, restream) => ({ ...state, restream }),
  'recording.state': (state, recording) => ({ ...state, recording }),
  heartbeat: (state) => state,
  // The dashboard's own count of open pages, for obs-bridge; never sent to a page.
  'dashboard.viewers': (state) => state,
};

export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  if (action.type === 'replay') return { ...state, timeline: [], points: [] };
  const handle = handlers[action.name] as Handler<EventName> | undefined;
  return handle ? handle(state, action.payload as EventPayload<EventName>, action) : state;
}
