// The session epoch in NATS KV: every session names the epoch it was issued in, and "log out
// everywhere" moves the epoch on, ending every session on every dashboard server of the stream.
import type { KV, KvEntry, Logger, NatsConnection } from '@irlkit/shared';

const KEY = 'session_epoch';

export class SessionEpoch {
  private value: number | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly listeners = new Set<(epoch: number) => void>();
  private stopWatch: (() => void) | undefined;

  private constructor(
    private readonly kv: KV,
    private readonly log: Logger,
  ) {}

  /** `replicas`: copies JetStream keeps of the bucket when this creates it (NATS_JS_REPLICAS). */
  static async open(nc: NatsConnection, bucket: string, log: Logger, replicas = 1): Promise<SessionEpoch> {
    const kv = await nc.jetstream().views.kv(bucket, { history: 1, replicas });
    const epoch = new SessionEpoch(kv, log);
    await epoch.follow();
    return epoch;
  }

  /** The current epoch (0 before anyone logged out everywhere). */
  current(): number {
    return this.value ?? 0;
  }

  /** Moves the epoch on; every session issued before ends. Returns the new epoch. */
  async bump(): Promise<number> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.kv.get(KEY);
      const next = parse(entry) + 1;
      try {
        if (entry) await this.kv.update(KEY, new TextEncoder().encode(String(next)), entry.revision);
        else await this.kv.create(KEY, new TextEncoder().encode(String(next)));
        this.apply(next);
        return next;
      } catch (error) {
        // Another server moved it at the same moment: read again.
        this.log.debug({ err: error }, 'session epoch changed under us; retrying');
      }
    }
    throw new Error('could not move the session epoch on (NATS KV kept changing)');
  }

  /** Calls `listener` whenever the epoch moves on; returns the unsubscribe. */
  onChange(listener: (epoch: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.listeners.clear();
    this.stopWatch?.();
  }

  private async follow(): Promise<void> {
    const watch = await this.kv.watch({ key: KEY, initializedFn: () => this.apply(this.value ?? 0) });
    this.stopWatch = () => watch.stop();
    void (async () => {
      for await (const entry of watch) this.apply(parse(entry));
    })().catch((error) => this.log.error({ err: error }, 'session epoch watch ended'));
    // The initial value (or its absence) is known once the watch has yielded what is stored.
    await new Promise<void>((resolve) => {
      if (this.value !== undefined) resolve();
      else this.waiters.add(resolve);
    });
  }

  private apply(epoch: number): void {
    // Never backwards: a stale update must not bring ended sessions back.
    const previous = this.value;
    this.value = Math.max(this.value ?? 0, epoch);
    if (previous !== undefined && this.value !== previous) for (const listener of this.listeners) listener(this.value);
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }
}

function parse(entry: KvEntry | null): number {
  if (entry?.operation !== 'PUT') return 0;
  const n = Number(new TextDecoder().decode(entry.value));
  return Number.isInteger(n) && n >= 0 ? n : 0;
}
