// Runs the OBS watchdog: feeds the policy from the obs-websocket client, restarts OBS when the policy
// says so (the obs container through Docker, or natively the desktop service's obs.restart command),
// and restores the stream and the scene once OBS is back.
import { type Bus, type Logger, publishChildEvent, type Timeline } from '@irlkit/shared';
import type { ObsContainer } from './docker.ts';
import { DEFAULT_WATCHDOG_SETTINGS, sceneToRestore, type WatchdogAction, WatchdogPolicy, type WatchdogSettings } from './policy.ts';

/** What the watchdog needs from OBS (implemented by the obs-websocket client). */
export interface WatchdogObs {
  isReachable(): boolean;
  isStreaming(): boolean;
  programScene(): string | null;
  setProgramScene(scene: string): Promise<void>;
  startStream(): Promise<void>;
  onProgramScene(listener: (scene: string | null) => void): () => void;
  onStreaming(listener: (streaming: boolean) => void): () => void;
  onReachable(listener: (reachable: boolean) => void): () => void;
}

export type WatchdogRestarter = { mode: 'docker'; container: ObsContainer } | { mode: 'native' };

export interface ObsWatchdogOptions {
  bus: Bus;
  obs: WatchdogObs;
  log: Logger;
  events: Timeline;
  restarter: WatchdogRestarter;
  settings?: Partial<WatchdogSettings>;
  /** The scene the switcher wants on program (null in manual mode), and the scenes it owns. */
  switcher: { wantedScene(): string | null; scenes(): string[] };
  tickMs?: number;
}

export class ObsWatchdog {
  private policy!: WatchdogPolicy;
  private cleanups: Array<() => void> = [];
  private restarting = false;

  constructor(private readonly options: ObsWatchdogOptions) {}

  start(): void {
    const { obs, restarter } = this.options;
    const settings = { ...DEFAULT_WATCHDOG_SETTINGS, ...this.options.settings };
    this.policy = new WatchdogPolicy(settings, Date.now());
    const current = () => ({ streaming: obs.isStreaming(), scene: obs.programScene() });
    if (obs.isReachable()) this.apply(this.policy.observeReachable(true, Date.now(), current()));
    this.cleanups.push(
      obs.onReachable((reachable) => this.apply(this.policy.observeReachable(reachable, Date.now(), current()))),
      obs.onStreaming((streaming) => this.policy.observeStreaming(streaming, Date.now())),
      obs.onProgramScene((scene) => this.policy.observeProgramScene(scene)),
    );
    // An OBS that was just started gets the startup grace: restarting one that is about to answer
    // would only start the wait over. Every start is a `process` event on NATS: the desktop
    // service's supervisor (natively, and inside the obs container) and, in compose, the obs
    // container's own start, which the bridge publishes.
    this.cleanups.push(
      this.options.bus.subscribe('process', (event) => {
        if (event.child === 'obs' && event.event === 'started') this.policy.observeStarted(Date.now());
      }),
    );
    const tick = setInterval(() => this.apply(this.policy.tick(Date.now())), this.options.tickMs ?? 250);
    this.cleanups.push(() => clearInterval(tick));
    if (restarter.mode === 'docker') {
      void restarter.container.start();
      this.cleanups.push(() => restarter.container.stop());
    }
    this.options.log.info({ mode: restarter.mode, timeoutMs: settings.timeoutMs }, 'OBS watchdog on');
  }

  stop(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  snapshot() {
    return this.policy.snapshot();
  }

  private apply(actions: WatchdogAction[]): void {
    for (const action of actions) {
      if (action.type === 'restartObs') void this.restartObs(action);
      else void this.restore(action);
    }
  }

  private async restartObs(action: Extract<WatchdogAction, { type: 'restartObs' }>): Promise<void> {
    const { bus, log, events, restarter } = this.options;
    if (this.restarting) return;
    this.restarting = true;
    log.warn({ attempt: action.attempt, reason: action.reason, mode: restarter.mode }, 'restarting OBS');
    events.warn(`Watchdog restarting OBS (${action.reason}, attempt ${action.attempt})`);
    try {
      if (restarter.mode === 'docker') {
        publishChildEvent(
          bus,
          'obs-bridge',
          { child: 'obs', event: 'restarting', pid: null, exitCode: null, signal: null, restartInMs: 0, detail: action.reason },
          'container',
        );
        await restarter.container.restart();
      } else {
        const reply = await bus.request('obs.restart', {}, 10_000);
        if (!reply.ok) throw new Error(reply.error);
      }
    } catch (error) {
      log.error({ err: error }, 'OBS restart failed');
      events.error(`Watchdog could not restart OBS: ${(error as Error).message}`);
    } finally {
      this.restarting = false;
    }
  }

  private async restore(action: Extract<WatchdogAction, { type: 'restore' }>): Promise<void> {
    const { obs, log, events, switcher } = this.options;
    const scene = sceneToRestore(action.scene, switcher.wantedScene(), switcher.scenes());
    try {
      // The scene first, so a restored stream never starts on the wrong picture.
      if (scene && obs.programScene() !== scene) await obs.setProgramScene(scene);
      if (action.streaming && !obs.isStreaming()) await obs.startStream();
      log.info({ scene, streaming: action.streaming, reason: action.reason }, 'restored OBS state');
      events.info(
        `Restored after OBS restart: ${[scene && `scene ${scene}`, action.streaming && 'streaming'].filter(Boolean).join(', ') || 'nothing to restore'}`,
      );
    } catch (error) {
      log.error({ err: error }, 'restoring OBS state failed');
      events.error(`Could not restore OBS after its restart: ${(error as Error).message}`);
    }
  }
}
