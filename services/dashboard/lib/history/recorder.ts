// Records the stream's history: creates the history streams (again and again until JetStream answers),
// then writes what the sampler keeps of the live events. The rare events (timeline, processes, links)
// nats-server stores by itself as they are published.
import { type Bus, type Logger, RECORDED_EVENTS, type RecordedEvent } from '@irlkit/shared';
import { HistorySampler } from './sampler';
import type { HistoryStore } from './store';

export class HistoryRecorder {
  private readonly sampler = new HistorySampler();
  private readonly unsubscribes: Array<() => void> = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private resolveReady: (() => void) | undefined;
  /** Settles once the history streams exist. */
  readonly ready = new Promise<void>((resolve) => {
    this.resolveReady = resolve;
  });

  constructor(
    private readonly bus: Bus,
    private readonly store: HistoryStore,
    private readonly log: Logger,
    private readonly retryMs = 5000,
  ) {}

  start(): void {
    for (const name of RECORDED_EVENTS) {
      this.unsubscribes.push(
        this.bus.subscribe(name, (payload) => {
          const kept = this.sampler.offer(name as RecordedEvent, payload);
          if (kept) this.store.append(name, kept);
        }),
      );
    }
    void this.ensureStreams();
  }

  private async ensureStreams(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.store.ensureStreams();
      this.resolveReady?.();
    } catch (error) {
      this.log.warn({ err: (error as Error).message, retryInMs: this.retryMs }, 'history streams unavailable: nothing is recorded until they are');
      this.retryTimer = setTimeout(() => void this.ensureStreams(), this.retryMs);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const u of this.unsubscribes.splice(0)) u();
  }
}
