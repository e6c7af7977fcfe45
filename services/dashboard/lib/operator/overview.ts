// The operator's view over every stream of the host: the latest switcher state, OBS state and ingest
// statistics of each, followed on `irl.*.<event>` (the operator's NATS user may read every stream's).
import { decodePayload, type EventName, type EventPayload, eventSchemas, type Logger, type NatsConnection, parseSubject, subjects } from '@irlkit/shared';

/** The events the overview follows: one line per stream is made of these. */
const FOLLOWED = ['switcher.state', 'obs.state', 'ingest.stats'] as const satisfies readonly EventName[];
type Followed = (typeof FOLLOWED)[number];

/** One stream's line on the operator page (GET /api/operator/streams). */
export interface StreamOverview {
  id: string;
  /** The switcher's state and since when; null before its first `switcher.state`. */
  switcher: { state: EventPayload<'switcher.state'>['state']; mode: EventPayload<'switcher.state'>['mode']; sinceMs: number } | null;
  /** OBS streaming or not; null before its first `obs.state`. */
  obs: { reachable: boolean; streaming: boolean; outputKbps: number | null } | null;
  /** The feed at ingest; null before its first `ingest.stats`. */
  ingest: { connected: boolean; bitrateKbps: number; rttMs: number | null } | null;
  /** When any of its followed events last arrived (this server's clock); null when none has. */
  lastSeenMs: number | null;
}

export class StreamsOverview {
  private readonly streams = new Map<string, StreamOverview>();
  private stopFollowing: (() => void) | undefined;
  /** Invalid messages dropped, by subject (every subscriber validates what it receives). */
  readonly rejected = new Map<string, number>();

  /** `configured`: the streams the runner started, listed before they publish anything. */
  constructor(configured: readonly string[] = []) {
    for (const id of configured) this.streams.set(id, blank(id));
  }

  /** Every stream configured or seen, by id. */
  list(): StreamOverview[] {
    return [...this.streams.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Whether the operator may command this stream: configured, or seen on the bus. */
  knows(id: string): boolean {
    return this.streams.has(id);
  }

  apply<N extends Followed>(streamId: string, name: N, payload: EventPayload<N>, nowMs = Date.now()): void {
    const line = this.streams.get(streamId) ?? blank(streamId);
    this.streams.set(streamId, line);
    line.lastSeenMs = nowMs;
    if (name === 'switcher.state') {
      const state = payload as EventPayload<'switcher.state'>;
      line.switcher = { state: state.state, mode: state.mode, sinceMs: state.since };
    } else if (name === 'obs.state') {
      const obs = payload as EventPayload<'obs.state'>;
      line.obs = { reachable: obs.reachable, streaming: obs.streaming, outputKbps: obs.outputKbps };
    } else {
      const stats = payload as EventPayload<'ingest.stats'>;
      line.ingest = { connected: stats.connected, bitrateKbps: stats.bitrateKbps, rttMs: stats.rttMs };
    }
  }

  /** Follows every stream's followed events on this connection until `stop()`. */
  follow(nc: NatsConnection, log: Logger): void {
    const subscriptions = FOLLOWED.map((name) =>
      nc.subscribe(subjects.everyStream(name), {
        callback: (error, msg) => {
          if (error) return log.error({ err: error, event: name }, 'operator overview: subscription error');
          const parsed = parseSubject(msg.subject);
          if (parsed.kind !== 'event' || parsed.name !== name) return;
          const decoded = decodePayload(eventSchemas[name], msg.data);
          if (!decoded.ok) {
            this.rejected.set(msg.subject, (this.rejected.get(msg.subject) ?? 0) + 1);
            log.warn({ subject: msg.subject, reason: decoded.reason }, 'dropped invalid message');
            return;
          }
          this.apply(parsed.streamId, name, decoded.value as EventPayload<typeof name>);
        },
      }),
    );
    this.stopFollowing = () => {
      for (const subscription of subscriptions) subscription.unsubscribe();
    };
  }

  stop(): void {
    this.stopFollowing?.();
    this.stopFollowing = undefined;
  }
}

function blank(id: string): StreamOverview {
  return { id, switcher: null, obs: null, ingest: null, lastSeenMs: null };
}
