// Which live events go into the history, and in what form: statistics one a second (loss counts summed
// over the samples left out), SRTLA tables one a second, OBS and switcher state on change and as a slow
// heartbeat. Pure: the payloads' own timestamps are the clock.
import type { EventName, EventPayload, RecordedEvent } from '@irlkit/shared';

/** One sample a second; a little slack so a 4 Hz publisher's jitter does not skip seconds. */
export const SAMPLE_INTERVAL_MS = 950;
/** An unchanged state is written again this often, so gaps in the history can be told from quiet. */
export const STATE_HEARTBEAT_MS = 60_000;

type Counters = EventPayload<'ingest.stats'>['deltas'];

function changeKey(name: RecordedEvent, payload: EventPayload<RecordedEvent>): string {
  if (name === 'obs.state') {
    const o = payload as EventPayload<'obs.state'>;
    return JSON.stringify([o.reachable, o.streaming, o.recording, o.programScene, o.micMuted, o.error]);
  }
  const s = payload as EventPayload<'switcher.state'>;
  return JSON.stringify([s.mode, s.state, s.since, s.scene, s.reason, s.settings, s.scenes]);
}

export class HistorySampler {
  private readonly lastWrittenTs = new Map<EventName, number>();
  private readonly lastKey = new Map<EventName, string>();
  /** Loss and drop counts of the statistics not written since the last sample. */
  private pendingDeltas: Counters | undefined;

  /** The payload to record for this event, or undefined to leave it out. */
  offer<N extends RecordedEvent>(name: N, payload: EventPayload<N>): EventPayload<N> | undefined {
    const last = this.lastWrittenTs.get(name);
    if (name === 'ingest.stats') {
      const stats = payload as EventPayload<'ingest.stats'>;
      const deltas = addCounters(this.pendingDeltas, stats.deltas);
      if (last !== undefined && stats.ts - last < SAMPLE_INTERVAL_MS && stats.ts >= last) {
        this.pendingDeltas = deltas;
        return undefined;
      }
      this.pendingDeltas = undefined;
      this.lastWrittenTs.set(name, stats.ts);
      return { ...stats, deltas } as EventPayload<N>;
    }
    if (name === 'ingest.srtla') {
      if (last !== undefined && payload.ts - last < SAMPLE_INTERVAL_MS && payload.ts >= last) return undefined;
      this.lastWrittenTs.set(name, payload.ts);
      return payload;
    }
    const key = changeKey(name, payload);
    if (key === this.lastKey.get(name) && last !== undefined && payload.ts - last < STATE_HEARTBEAT_MS && payload.ts >= last) return undefined;
    this.lastKey.set(name, key);
    this.lastWrittenTs.set(name, payload.ts);
    return payload;
  }
}

function addCounters(a: Counters | undefined, b: Counters): Counters {
  if (!a) return b;
  return { received: a.received + b.received, lost: a.lost + b.lost, dropped: a.dropped + b.dropped, retransmitted: a.retransmitted + b.retransmitted };
}
