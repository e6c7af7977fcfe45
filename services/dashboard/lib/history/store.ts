// The stream's history in JetStream: creates the history streams with their limits (and applies changed
// limits on start), appends recorded events, and reads a time range back, validated. Owns nothing but
// calls on the server's NATS connection; JetStream being away makes reads empty and writes dropped,
// never a failed page.
import {
  CAPTURED_EVENTS,
  decodePayload,
  EVENT_NAMES,
  type EventName,
  type EventPayload,
  eventSchemas,
  HISTORY_STREAMS,
  type HistoryStreamDefinition,
  type HistoryStreamKey,
  type Logger,
  type NatsConnection,
  parseSubject,
  subjects,
} from '@irlkit/shared';
import { AckPolicy, DeliverPolicy, DiscardPolicy, JSONCodec, nanos, RetentionPolicy, StorageType, type StreamConfig } from 'nats';

export interface HistoryLimits {
  /** How long anything is kept. */
  maxAgeMs: number;
  /** The most bytes each stream may hold; the oldest go first. */
  maxBytes: Record<HistoryStreamKey, number>;
}

export interface HistoryRecord<N extends EventName = EventName> {
  name: N;
  payload: EventPayload<N>;
}

export interface HistoryStreamUsage {
  stream: string;
  messages: number;
  bytes: number;
  firstTs: number | null;
  lastTs: number | null;
  maxBytes: number;
  maxAgeMs: number;
}

const json = JSONCodec<unknown>();
/** A read asks for this many messages at a time. */
const FETCH_BATCH = 4000;

export class HistoryStore {
  /** Records that failed their schema when read back, by subject (counted, logged once a minute). */
  readonly rejected = new Map<string, number>();
  private lastRejectLogMs = 0;

  constructor(
    private readonly nc: NatsConnection,
    readonly streamId: string,
    readonly limits: HistoryLimits,
    private readonly log: Logger,
    private readonly timeoutMs = 5000,
    /** Every stream's history pair, or one stream's own (`historyStreams(id)`: several streamers on a host). */
    private readonly streams: Record<HistoryStreamKey, HistoryStreamDefinition> = HISTORY_STREAMS,
    /** Copies JetStream keeps of each stream (NATS_JS_REPLICAS; 1 on a single server). */
    private readonly replicas = 1,
  ) {}

  /** Creates both streams, or brings their limits to the configured ones. Throws when JetStream does not answer or refuses. */
  async ensureStreams(): Promise<void> {
    const jsm = await this.nc.jetstreamManager({ timeout: this.timeoutMs });
    for (const key of Object.keys(this.streams) as HistoryStreamKey[]) {
      const definition = this.streams[key];
      const maxAge = nanos(this.limits.maxAgeMs);
      const wanted: Partial<StreamConfig> = {
        name: definition.name,
        subjects: [...definition.subjects],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: maxAge,
        max_bytes: this.limits.maxBytes[key],
        // JetStream refuses a duplicate window longer than the age limit.
        duplicate_window: Math.min(maxAge, nanos(60_000)),
        num_replicas: this.replicas,
      };
      const existing = await jsm.streams.info(definition.name).catch((error: unknown) => {
        if ((error as { code?: string }).code === '404' || /not found/i.test((error as Error).message)) return undefined;
        throw error;
      });
      if (!existing) {
        await jsm.streams.add(wanted).catch((error: unknown) => {
          throw refused(definition.name, key, this.limits.maxBytes[key], error);
        });
        this.log.info({ stream: definition.name, maxAgeMs: this.limits.maxAgeMs, maxBytes: this.limits.maxBytes[key] }, 'history stream created');
      } else if (
        existing.config.max_age !== wanted.max_age ||
        existing.config.max_bytes !== wanted.max_bytes ||
        existing.config.num_replicas !== wanted.num_replicas ||
        JSON.stringify([...existing.config.subjects].sort()) !== JSON.stringify([...(wanted.subjects ?? [])].sort())
      ) {
        await jsm.streams.update(definition.name, { ...existing.config, ...wanted }).catch((error: unknown) => {
          throw refused(definition.name, key, this.limits.maxBytes[key], error);
        });
        this.log.info({ stream: definition.name, maxAgeMs: this.limits.maxAgeMs, maxBytes: this.limits.maxBytes[key] }, 'history stream limits changed');
      }
    }
  }

  /** Appends a recorded event (as `history.<name>`); nats-server stores it in its stream. */
  append<N extends EventName>(name: N, payload: EventPayload<N>): void {
    if (this.nc.isClosed()) return;
    this.nc.publish(subjects.history(this.streamId, name), json.encode(payload));
  }

  /** What each stream holds now, against its limits. */
  async usage(): Promise<HistoryStreamUsage[]> {
    const jsm = await this.nc.jetstreamManager({ timeout: this.timeoutMs });
    const usage: HistoryStreamUsage[] = [];
    for (const definition of Object.values(this.streams)) {
      const info = await jsm.streams.info(definition.name);
      usage.push({
        stream: definition.name,
        messages: info.state.messages,
        bytes: info.state.bytes,
        firstTs: info.state.messages ? Date.parse(info.state.first_ts) : null,
        lastTs: info.state.messages ? Date.parse(info.state.last_ts) : null,
        maxBytes: info.config.max_bytes,
        maxAgeMs: Math.round(info.config.max_age / 1e6),
      });
    }
    return usage;
  }

  /**
   * Every valid record of this stream id stored from `fromMs` (by when nats-server stored it) up to `toMs`
   * (by the record's own timestamp),
   * in the order stored, from one history stream. `names` keeps only those events.
   */
  async read(
    key: HistoryStreamKey,
    options: { fromMs: number; toMs?: number; names?: readonly EventName[] } | { lastMessages: number; names?: readonly EventName[] },
  ): Promise<HistoryRecord[]> {
    return (await this.consume(key, options)).records;
  }

  /** The valid records stored after sequence `afterSeq` (0: all), in the order stored, and the sequence to go on from next time. */
  async readAfter(key: HistoryStreamKey, afterSeq: number, names?: readonly EventName[]): Promise<{ records: HistoryRecord[]; lastSeq: number }> {
    return this.consume(key, { afterSeq, names });
  }

  private async consume(
    key: HistoryStreamKey,
    options:
      | { fromMs: number; toMs?: number; names?: readonly EventName[] }
      | { lastMessages: number; names?: readonly EventName[] }
      | { afterSeq: number; names?: readonly EventName[] | undefined },
  ): Promise<{ records: HistoryRecord[]; lastSeq: number }> {
    const stream = this.streams[key].name;
    const jsm = await this.nc.jetstreamManager({ timeout: this.timeoutMs });
    const info = await jsm.streams.info(stream);
    const lastSeq = info.state.last_seq;
    const nothing = { records: [], lastSeq };
    if (info.state.messages === 0) return nothing;
    if ('fromMs' in options && Date.parse(info.state.last_ts) < options.fromMs) return nothing;
    if ('afterSeq' in options && options.afterSeq >= lastSeq) return nothing;
    const toMs = ('toMs' in options ? options.toMs : undefined) ?? Number.POSITIVE_INFINITY;
    const start =
      'fromMs' in options
        ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(Math.max(0, options.fromMs)).toISOString() }
        : {
            deliver_policy: DeliverPolicy.StartSequence,
            opt_start_seq: Math.max(info.state.first_seq, 'afterSeq' in options ? options.afterSeq + 1 : lastSeq - options.lastMessages + 1),
          };
    // An ephemeral consumer, not an ordered one: its creation already tells how many messages match.
    const created = await jsm.consumers.add(stream, {
      // nats-server 2.9 takes one filter, and only a subset of one of the stream's subjects.
      ...(options.names?.length === 1 ? { filter_subject: this.subjectOf(options.names[0] as EventName) } : {}),
      ack_policy: AckPolicy.None,
      inactive_threshold: nanos(30_000),
      ...start,
    });
    const wanted = options.names ? new Set<string>(options.names) : undefined;
    const records: HistoryRecord[] = [];
    // Where to go on from: all matching messages up to `lastSeq` once they all came (and any later ones seen in
    // order), else the last one that came.
    let seenSeq = 'afterSeq' in options ? options.afterSeq : 0;
    let left = created.num_pending;
    try {
      const consumer = await this.nc.jetstream({ timeout: this.timeoutMs }).consumers.get(stream, created.name);
      while (left > 0) {
        let received = 0;
        const batch = await consumer.fetch({ max_messages: Math.min(FETCH_BATCH, left), expires: 5000 });
        for await (const msg of batch) {
          received += 1;
          left -= 1;
          seenSeq = Math.max(seenSeq, msg.seq);
          if (msg.seq >= lastSeq) left = 0;
          const record = this.decode(msg.subject, msg.data, wanted);
          // Past the end by the publisher's clock and by nats-server's: done (a record published late still counts).
          const late = Math.floor(msg.info.timestampNanos / 1e6) > toMs;
          if (record && record.payload.ts > toMs && late) break;
          if (record && record.payload.ts <= toMs) records.push(record);
          if (left === 0) break;
        }
        if (received === 0) break;
      }
    } finally {
      await jsm.consumers.delete(stream, created.name).catch(() => undefined);
    }
    return { records, lastSeq: left === 0 ? Math.max(lastSeq, seenSeq) : seenSeq };
  }

  private subjectOf(name: EventName): string {
    return (CAPTURED_EVENTS as readonly string[]).includes(name) ? subjects.event(this.streamId, name) : subjects.history(this.streamId, name);
  }

  private decode(subject: string, data: Uint8Array, wanted: Set<string> | undefined): HistoryRecord | undefined {
    const parsed = parseSubject(subject);
    if ((parsed.kind !== 'event' && parsed.kind !== 'history') || parsed.streamId !== this.streamId) return undefined;
    if (!(EVENT_NAMES as readonly string[]).includes(parsed.name) || (wanted && !wanted.has(parsed.name))) return undefined;
    const decoded = decodePayload(eventSchemas[parsed.name], data);
    if (!decoded.ok) {
      this.rejected.set(subject, (this.rejected.get(subject) ?? 0) + 1);
      if (Date.now() - this.lastRejectLogMs > 60_000) {
        this.lastRejectLogMs = Date.now();
        this.log.warn({ subject, reason: decoded.reason, rejected: this.rejected.get(subject) }, 'skipped an invalid history record');
      }
      return undefined;
    }
    return { name: parsed.name, payload: decoded.value } as HistoryRecord;
  }
}

/** JetStream's refusal of a history stream, naming the setting to change when it is the byte limit. */
function refused(stream: string, key: HistoryStreamKey, maxBytes: number, error: unknown): Error {
  const message = (error as Error).message;
  if (!/insufficient storage/i.test(message)) return error as Error;
  const variable = key === 'events' ? 'HISTORY_EVENTS_MAX_MB' : 'HISTORY_SAMPLES_MAX_MB';
  return new Error(
    `JetStream refused ${stream} with a limit of ${Math.round(maxBytes / 1048576)} MB (${message}): nats-server's max_file_store must hold the history's limits; lower ${variable} or raise max_file_store`,
  );
}
