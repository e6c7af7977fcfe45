// Typed NATS access: validated publish/subscribe, commands as request/reply, JetStream KV settings.
import { type ConnectionOptions, connect, JSONCodec, type KV, type KvEntry, type Msg, type NatsConnection, type Subscription } from 'nats';
import type { z } from 'zod';
import type { Logger } from './log.ts';
import { inboxPrefix } from './permissions.ts';
import {
  type CommandReply,
  type CommandRequest,
  type CommandResult,
  commandReplySchema,
  commandSchemas,
  type EventPayload,
  eventSchemas,
} from './schemas/index.ts';
import { type CommandVerb, type EventName, subjects } from './subjects.ts';

export type { KV, KvEntry, NatsConnection };

export interface NatsSettings {
  url: string;
  user?: string | undefined;
  password?: string | undefined;
  /** Connection name shown by nats-server's monitoring. */
  name: string;
}

/** Connects and keeps reconnecting forever; logs every disconnect and reconnect. */
export async function connectNats(settings: NatsSettings, log: Logger): Promise<NatsConnection> {
  const options: ConnectionOptions = {
    servers: settings.url.split(',').map((s) => s.trim()),
    name: settings.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    waitOnFirstConnect: true,
    pingInterval: 5000,
    // Replies come back under the user's own prefix: nobody else may subscribe there (permissions.ts).
    ...(settings.user ? { user: settings.user, pass: settings.password ?? '', inboxPrefix: inboxPrefix(settings.user) } : {}),
  };
  const nc = await connect(options);
  log.info({ server: nc.getServer() }, 'nats connected');
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') log.warn({ server: status.data }, 'nats disconnected');
      else if (status.type === 'reconnect') log.info({ server: status.data }, 'nats reconnected');
      else if (status.type === 'error') log.error({ err: status.data }, 'nats error');
    }
  })();
  return nc;
}

const json = JSONCodec<unknown>();

export class CommandError extends Error {
  override name = 'CommandError';
}

export interface RejectionCounters {
  /** Invalid payloads dropped, by subject. */
  bySubject: Map<string, number>;
  total: number;
}

function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** Decodes bytes as JSON and validates them; returns a readable reason on failure. */
export function decodePayload<S extends z.ZodType>(schema: S, data: Uint8Array): { ok: true; value: z.infer<S> } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = json.decode(data);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: describeZodError(parsed.error) };
  return { ok: true, value: parsed.data };
}

export type Unsubscribe = () => void;

/**
 * One stream's view of the bus. Publishers validate before sending; subscribers validate
 * what arrives and drop invalid messages with a logged reason and a counter.
 */
export class Bus {
  readonly rejections: RejectionCounters = { bySubject: new Map(), total: 0 };
  private readonly subs = new Set<Subscription>();

  constructor(
    readonly nc: NatsConnection,
    readonly streamId: string,
    private readonly log: Logger,
  ) {}

  /** Invalid outgoing messages, by event name: a bug in this service, logged and counted, never sent. */
  readonly refusedPublishes = new Map<string, number>();

  /**
   * Validates and sends an event. An invalid payload is not sent: it is logged and counted and
   * `false` comes back, so a bad field in a timer's message never takes a service down.
   */
  publish<N extends EventName>(name: N, payload: EventPayload<N>): boolean {
    const parsed = eventSchemas[name].safeParse(payload);
    if (!parsed.success) {
      this.refusedPublishes.set(name, (this.refusedPublishes.get(name) ?? 0) + 1);
      this.log.error(
        { event: name, reason: describeZodError(parsed.error), refused: this.refusedPublishes.get(name) },
        'refusing to publish an invalid message',
      );
      return false;
    }
    if (this.nc.isClosed()) return false;
    this.nc.publish(subjects.event(this.streamId, name), json.encode(parsed.data));
    return true;
  }

  subscribe<N extends EventName>(name: N, onMessage: (payload: EventPayload<N>) => void): Unsubscribe {
    const subject = subjects.event(this.streamId, name);
    const schema = eventSchemas[name] as unknown as z.ZodType<EventPayload<N>>;
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          this.log.error({ err, subject }, 'subscription error');
          return;
        }
        const decoded = decodePayload(schema, msg.data);
        if (!decoded.ok) {
          this.reject(subject, decoded.reason);
          return;
        }
        try {
          onMessage(decoded.value);
        } catch (error) {
          this.log.error({ err: error, subject }, 'handler failed');
        }
      },
    });
    return this.track(sub);
  }

  /** Sends a command and waits for its typed reply; never throws for a refused command. */
  async request<V extends CommandVerb>(verb: V, payload: CommandRequest<V>, timeoutMs = 5000): Promise<CommandReply<V>> {
    const subject = subjects.command(this.streamId, verb);
    let reply: Msg;
    try {
      reply = await this.nc.request(subject, json.encode(payload), { timeout: timeoutMs });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '503') return { ok: false, error: `no service answers ${verb} (is it running?)` };
      if (code === 'TIMEOUT') return { ok: false, error: `${verb} got no reply within ${timeoutMs} ms` };
      return { ok: false, error: `${verb} failed: ${(error as Error).message}` };
    }
    const decoded = decodePayload(commandReplySchema(verb), reply.data);
    if (!decoded.ok) return { ok: false, error: `${verb} answered with an invalid reply: ${decoded.reason}` };
    return decoded.value as CommandReply<V>;
  }

  /**
   * Answers a command. The handler gets a validated request and returns the result; a thrown
   * error becomes `{ok:false, error: message}`. Invalid requests are answered with the reason.
   */
  serve<V extends CommandVerb>(
    verb: V,
    // biome-ignore lint/suspicious/noConfusingVoidType: handlers with nothing to return are plain void functions
    handler: (request: CommandRequest<V>) => Promise<CommandResult<V> | void> | CommandResult<V> | void,
  ): Unsubscribe {
    const subject = subjects.command(this.streamId, verb);
    const schema = commandSchemas[verb].request as unknown as z.ZodType<CommandRequest<V>>;
    const sub = this.nc.subscribe(subject, {
      queue: `cmd.${verb}`,
      callback: (err, msg) => {
        if (err) return;
        const respond = (reply: CommandReply<V>) => {
          if (msg.reply) msg.respond(json.encode(reply));
        };
        const decoded = decodePayload(schema, msg.data.length ? msg.data : json.encode({}));
        if (!decoded.ok) {
          this.reject(subject, decoded.reason);
          respond({ ok: false, error: `invalid ${verb} request: ${decoded.reason}` });
          return;
        }
        Promise.resolve()
          .then(() => handler(decoded.value))
          .then(
            (result) => respond(result === undefined ? { ok: true } : { ok: true, result }),
            (error: unknown) => {
              const message = error instanceof Error ? error.message : String(error);
              this.log.warn({ verb, error: message }, 'command refused');
              respond({ ok: false, error: message || `${verb} failed` });
            },
          );
      },
    });
    return this.track(sub);
  }

  private reject(subject: string, reason: string): void {
    this.rejections.total += 1;
    this.rejections.bySubject.set(subject, (this.rejections.bySubject.get(subject) ?? 0) + 1);
    this.log.warn({ subject, reason, rejected: this.rejections.bySubject.get(subject) }, 'dropped invalid message');
  }

  private track(sub: Subscription): Unsubscribe {
    this.subs.add(sub);
    return () => {
      this.subs.delete(sub);
      sub.unsubscribe();
    };
  }

  /** Removes every subscription this bus made; the connection stays open. */
  close(): void {
    for (const sub of this.subs) sub.unsubscribe();
    this.subs.clear();
  }
}

/** A typed, validated value in a JetStream key-value bucket (settings that survive restarts). */
export class Setting<S extends z.ZodType> {
  private constructor(
    private readonly kv: KV,
    private readonly key: string,
    private readonly schema: S,
    private readonly log: Logger,
  ) {}

  static async open<S extends z.ZodType>(nc: NatsConnection, bucket: string, key: string, schema: S, log: Logger): Promise<Setting<S>> {
    const kv = await nc.jetstream().views.kv(bucket, { history: 5 });
    return new Setting(kv, key, schema, log);
  }

  /** The stored value, or undefined if none is stored or what is stored no longer validates. */
  async get(): Promise<z.infer<S> | undefined> {
    const entry = await this.kv.get(this.key);
    if (entry?.operation !== 'PUT' || entry.value.length === 0) return undefined;
    const decoded = decodePayload(this.schema, entry.value);
    if (!decoded.ok) {
      this.log.warn({ key: this.key, reason: decoded.reason }, 'stored setting is invalid; ignoring it');
      return undefined;
    }
    return decoded.value;
  }

  async put(value: z.infer<S>): Promise<void> {
    const parsed = this.schema.parse(value);
    await this.kv.put(this.key, json.encode(parsed));
  }
}
