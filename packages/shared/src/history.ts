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
  /** Subjects of every stream id, or of the one stream it is kept for. */
  subjects: string[];
}

/**
 * Two JetStream streams, so the 1 Hz samples (most of the bytes) can never push out the timeline. With no
 * stream id, one pair for every stream (one streamer per host); with one (several streamers, each seeing
 * only their own), that stream's own pair, `IRLKIT_EVENTS_<id>` and `IRLKIT_SAMPLES_<id>`.
 */
export function historyStreams(streamId?: string): Record<'events' | 'samples', HistoryStreamDefinition> {
  const subject = (name: EventName, history = false) =>
    streamId ? (history ? subjects.history(streamId, name) : subjects.event(streamId, name)) : subjects.everyStream(name, history);
  const suffix = streamId ? `_${streamId}` : '';
  return {
    events: { name: `IRLKIT_EVENTS${suffix}`, subjects: [...CAPTURED_EVENTS.map((n) => subject(n)), ...RECORDED_CHANGES.map((n) => subject(n, true))] },
    samples: { name: `IRLKIT_SAMPLES${suffix}`, subjects: RECORDED_SAMPLES.map((n) => subject(n, true)) },
  };
}
/** Every stream's history in one pair (the single-streamer setup). */
export const HISTORY_STREAMS = historyStreams();
export type HistoryStreamKey = keyof typeof HISTORY_STREAMS;
