// What the stream's history keeps in JetStream, and in which stream: the contract between the recorder
// (the dashboard server), nats-server's permissions and every reader (the dashboard, the report).
import type { EventName } from './subjects.ts';
import { subjects } from './subjects.ts';

/**
 * Stored as they are published, by nats-server itself: nothing is lost while any process restarts.
 * Rare events (a few a minute at most).
 */
export const CAPTURED_EVENTS = ['log', 'process', 'ingest.link'] as const satisfies readonly EventName[];
/** Written by the recorder under `history.<name>`: on change (and a slow heartbeat), not at their 1 Hz. */
export const RECORDED_CHANGES = ['obs.state', 'switcher.state'] as const satisfies readonly EventName[];
/** Written by the recorder under `history.<name>`: one sample a second. */
export const RECORDED_SAMPLES = ['ingest.stats', 'ingest.srtla'] as const satisfies readonly EventName[];
export const RECORDED_EVENTS = [...RECORDED_CHANGES, ...RECORDED_SAMPLES] as const;
export type RecordedEvent = (typeof RECORDED_EVENTS)[number];

export interface HistoryStreamDefinition {
  name: string;
  /** Subjects of every stream id. */
  subjects: string[];
}

/** Two JetStream streams, so the 1 Hz samples (most of the bytes) can never push out the timeline. */
export const HISTORY_STREAMS = {
  events: {
    name: 'IRLKIT_EVENTS',
    subjects: [...CAPTURED_EVENTS.map((n) => subjects.everyStream(n)), ...RECORDED_CHANGES.map((n) => subjects.everyStream(n, true))],
  },
  samples: { name: 'IRLKIT_SAMPLES', subjects: RECORDED_SAMPLES.map((n) => subjects.everyStream(n, true)) },
} as const satisfies Record<string, HistoryStreamDefinition>;
export type HistoryStreamKey = keyof typeof HISTORY_STREAMS;
