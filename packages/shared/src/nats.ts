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

/** How often a command nobody listens for is sent again, until its timeout. */
const NO_RESPONDERS_RETRY_MS = 100;

/** What a command handler returns when it recorded the command but could not carry it out yet. */
export class CommandQueued {
  constructor(readonly reason: string) {}
}

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

  /**
   * Sends a command and waits for its typed reply; never throws for a refused command. While no service
   * listens (one reconnecting after nats-server restarted), the command is sent again until the timeout:
   * nobody received it, so nothing runs twice, and a command sent right after a restart is not lost.
   */
  async request<V extends CommandVerb>(verb: V, payload: CommandRequest<V>, timeoutMs = 5000): Promise<CommandReply<V>> {
    const subject = subjects.command(this.streamId, verb);
    const deadline = Date.now() + timeoutMs;
    // A round trip first: on a connection that is (re)connecting, a request sent at once can go out
    // before the reply subscription is back and its answer is lost (seen right after nats-server restarts).
    // A flush issued just before the client notices the server went away is rejected at once: ask again.
    for (;;) {
      try {
        await within(this.nc.flush(), Math.max(1, deadline - Date.now()), 'nats-server');
        break;
      } catch {
        if (this.nc.isClosed() || Date.now() + NO_RESPONDERS_RETRY_MS >= deadline) {
          return { ok: false, error: `${verb} not sent: NATS not connected within ${timeoutMs} ms` };
        }
        await new Promise((r) => setTimeout(r, NO_RESPONDERS_RETRY_MS));
      }
    }
    let reply: Msg;
    for (;;) {
      try {
        reply = await this.nc.request(subject, json.encode(payload), { timeout: Math.max(1, deadline - Date.now()) });
        break;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === '503') {
          if (Date.now() + NO_RESPONDERS_RETRY_MS < deadline && !this.nc.isClosed()) {
            await new Promise((r) => setTimeout(r, NO_RESPONDERS_RETRY_MS));
            continue;
          }
          return { ok: false, error: `no service answers ${verb} (is it running?)` };
        }
        if (code === 'TIMEOUT') return { ok: false, error: `${verb} got no reply within ${timeoutMs} ms` };
        return { ok: false, error: `${verb} failed: ${(error as Error).message}` };
      }
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
    handler: (request: CommandRequest<V>) => Promise<CommandResult<V> | CommandQueued | void> | CommandResult<V> | CommandQueued | void,
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
            (result) =>
              respond(result instanceof CommandQueued ? { ok: true, queued: result.reason } : result === undefined ? { ok: true } : { ok: true, result }),
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

/** Resolves with the promise's value, or rejects after `ms` with `what` in the message. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * The JetStream key-value bucket for settings that survive restarts, which never makes a service wait
 * on JetStream: values live in memory and are used at once; they are read from the bucket when it
 * answers, and written to it as soon as it is back if it was away. `onAvailability` hears when
 * persistence is lost and regained.
 */
export class SettingsBucket {
  private kv: KV | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly settings = new Set<Setting<z.ZodType>>();
  private reported: boolean | undefined;

  constructor(
    private readonly nc: NatsConnection,
    readonly bucket: string,
    private readonly log: Logger,
    private readonly options: {
      timeoutMs?: number;
      retryMs?: number;
      /** Copies JetStream keeps of the bucket when this creates it (NATS_JS_REPLICAS; 1 on a single server). */
      replicas?: number;
      onAvailability?: (available: boolean, reason: string | null) => void;
    } = {},
  ) {}

  get available(): boolean {
    return this.kv !== undefined;
  }

  /** Tries the bucket once, bounded in time; if it does not answer, keeps trying in the background. */
  async open(): Promise<boolean> {
    await this.tryOpen();
    return this.available;
  }

  setting<S extends z.ZodType>(key: string, schema: S): Setting<S> {
    const setting = new Setting(this, key, schema, this.log);
    this.settings.add(setting as unknown as Setting<z.ZodType>);
    return setting;
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** @internal The bucket, or undefined while JetStream is away. */
  store(): KV | undefined {
    return this.kv;
  }

  /** @internal A read or write failed: persistence is lost until the bucket answers again. */
  lost(error: unknown): void {
    if (!this.kv) return;
    this.kv = undefined;
    this.report(false, (error as Error).message ?? String(error));
    this.scheduleRetry();
  }

  private timeoutMs(): number {
    return this.options.timeoutMs ?? 3000;
  }

  private async tryOpen(): Promise<void> {
    if (this.closed || this.kv) return;
    try {
      const kv = await within(
        this.nc.jetstream({ timeout: this.timeoutMs() }).views.kv(this.bucket, { history: 5, replicas: this.options.replicas ?? 1 }),
        this.timeoutMs(),
        'JetStream',
      );
      if (this.closed) return;
      this.kv = kv;
      this.report(true, null);
      for (const setting of this.settings) await setting.reconcile();
    } catch (error) {
      this.report(false, (error as Error).message || String(error));
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.tryOpen();
    }, this.options.retryMs ?? 2000);
  }

  private report(available: boolean, reason: string | null): void {
    if (this.reported === available) return;
    const first = this.reported === undefined;
    this.reported = available;
    if (available) {
      if (!first) this.log.info({ bucket: this.bucket }, 'settings persisted again');
    } else this.log.warn({ bucket: this.bucket, reason }, 'settings are not persisted: JetStream unavailable');
    if (!(first && available)) this.options.onAvailability?.(available, reason);
  }
}

/**
 * A typed, validated value in a SettingsBucket. Reads and writes never throw for JetStream being away:
 * the value is kept in memory and written once the bucket is back.
 */
export class Setting<S extends z.ZodType> {
  private value: z.infer<S> | undefined;
  /** Changed in memory and not yet written to the bucket. */
  private dirty = false;
  private listeners = new Set<(value: z.infer<S>) => void>();

  /** @internal Made by SettingsBucket.setting. */
  constructor(
    private readonly bucket: SettingsBucket,
    private readonly key: string,
    private readonly schema: S,
    private readonly log: Logger,
  ) {}

  /** The value: the stored one if the bucket answers and nothing newer was put, else what is in memory. */
  async get(): Promise<z.infer<S> | undefined> {
    if (!this.dirty) {
      const stored = await this.read();
      if (stored !== undefined) this.value = stored;
    }
    return this.value;
  }

  /** Takes the value at once; writes it now if the bucket answers, or when it is back. */
  async put(value: z.infer<S>): Promise<void> {
    this.value = this.schema.parse(value);
    this.dirty = true;
    await this.flush();
  }

  /** Hears of a stored value that arrives once the bucket is back (when nothing newer was put meanwhile). */
  onStored(listener: (value: z.infer<S>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal The bucket is back: write what changed meanwhile, or take what is stored. */
  async reconcile(): Promise<void> {
    if (this.dirty) {
      await this.flush();
      return;
    }
    const stored = await this.read();
    if (stored === undefined || JSON.stringify(stored) === JSON.stringify(this.value)) return;
    this.value = stored;
    for (const listener of this.listeners) listener(stored);
  }

  private async read(): Promise<z.infer<S> | undefined> {
    const kv = this.bucket.store();
    if (!kv) return undefined;
    let entry: Awaited<ReturnType<KV['get']>>;
    try {
      entry = await within(kv.get(this.key), 3000, `reading ${this.key}`);
    } catch (error) {
      this.bucket.lost(error);
      return undefined;
    }
    if (entry?.operation !== 'PUT' || entry.value.length === 0) return undefined;
    const decoded = decodePayload(this.schema, entry.value);
    if (!decoded.ok) {
      this.log.warn({ key: this.key, reason: decoded.reason }, 'stored setting is invalid; ignoring it');
      return undefined;
    }
    return decoded.value;
  }

  private async flush(): Promise<void> {
    const kv = this.bucket.store();
    if (!kv || !this.dirty) return;
    const value = this.value;
    try {
      await within(kv.put(this.key, json.encode(value)), 3000, `writing ${this.key}`);
      if (this.value === value) this.dirty = false;
    } catch (error) {
      this.bucket.lost(error);
    }
  }
}
