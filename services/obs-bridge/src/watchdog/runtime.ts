// Runs the OBS watchdog: feeds the policy from the obs-websocket client and the commands, keeps the
// wanted state in JetStream KV, restarts OBS when the policy says so (OBS's container through Docker,
// or natively the desktop service's obs.restart command), and makes OBS match the wanted state
// whenever it answers and differs.
import { type Bus, type Logger, publishChildEvent, type Timeline, type WantedObsState } from '@irlkit/shared';
import type { ObsContainer } from './docker.ts';
import { DEFAULT_WATCHDOG_SETTINGS, sceneToRestore, type WantedChange, type WatchdogAction, WatchdogPolicy, type WatchdogSettings } from './policy.ts';

/** What the watchdog needs from OBS (implemented by the obs-websocket client). */
export interface WatchdogObs {
  isReachable(): boolean;
  isStreaming(): boolean;
  programScene(): string | null;
  setProgramScene(scene: string): Promise<void>;
  startStream(): Promise<void>;
  stopStream(): Promise<void>;
  setMute(input: string, muted: boolean): Promise<void>;
  inputMuted(input: string): Promise<boolean>;
  onProgramScene(listener: (scene: string | null) => void): () => void;
  onStreaming(listener: (streaming: boolean) => void): () => void;
  onReachable(listener: (reachable: boolean) => void): () => void;
  onMute(listener: (input: string, muted: boolean) => void): () => void;
  onHung(listener: (info: { silentMs: number }) => void): () => void;
}

/** Where the wanted state is kept between runs (a JetStream KV setting that tolerates JetStream being away). */
export interface WantedStore {
  get(): Promise<WantedObsState | undefined>;
  put(value: WantedObsState): Promise<void>;
}

export type WatchdogRestarter = { mode: 'docker'; container: ObsContainer } | { mode: 'native' } | { mode: 'off' };

export interface WatchdogRuntimeOptions {
  bus: Bus;
  obs: WatchdogObs;
  log: Logger;
  events: Timeline;
  restarter: WatchdogRestarter;
  store: WantedStore;
  settings?: Partial<WatchdogSettings>;
  /** The scene the switcher wants on program (null in manual mode), and the scenes it owns. */
  switcher: { wantedScene(): string | null; scenes(): string[] };
  tickMs?: number;
}

export class WatchdogRuntime {
  private policy!: WatchdogPolicy;
  private cleanups: Array<() => void> = [];
  private restarting = false;
  private savedVersion = 0;

  constructor(private readonly options: WatchdogRuntimeOptions) {}

  /** Reads the stored wanted state, so OBS's first answer is compared with it. Call before the OBS client starts. */
  async load(): Promise<void> {
    this.policy = new WatchdogPolicy(this.settings(), Date.now());
    const stored = await this.options.store.get().catch((error: Error) => {
      this.options.log.warn({ err: error }, 'could not read the wanted state');
      return undefined;
    });
    if (stored) this.policy.loadWanted(stored);
    this.savedVersion = this.policy.version;
  }

  private settings(): WatchdogSettings {
    return { ...DEFAULT_WATCHDOG_SETTINGS, ...this.options.settings };
  }

  /** Follows OBS; after load(), and after the switcher started (it puts its scene back on reconnect first). */
  start(): void {
    const { obs, restarter, log } = this.options;
    const settings = this.settings();
    const current = () => ({ streaming: obs.isStreaming(), scene: obs.programScene() });
    if (obs.isReachable()) this.apply(this.policy.observeReachable(true, Date.now(), current()));
    this.cleanups.push(
      obs.onReachable((reachable) => this.apply(this.policy.observeReachable(reachable, Date.now(), current()))),
      obs.onStreaming((streaming) => this.apply(void this.policy.observeStreaming(streaming, Date.now()))),
      obs.onProgramScene((scene) => this.apply(void this.policy.observeProgramScene(scene, Date.now()))),
      obs.onMute((input, muted) => this.apply(void this.policy.observeMute(input, muted, Date.now()))),
      obs.onHung(({ silentMs }) => {
        publishChildEvent(
          this.options.bus,
          'obs-bridge',
          {
            child: 'obs',
            event: 'unhealthy',
            pid: null,
            exitCode: null,
            signal: null,
            restartInMs: restarter.mode === 'off' ? null : 0,
            detail: `hung: no answer to obs-websocket for ${(silentMs / 1000).toFixed(1)} s`,
          },
          restarter.mode === 'docker' ? 'container' : 'process',
        );
        this.apply(this.policy.observeHung(Date.now(), silentMs));
      }),
    );
    // An OBS that was just started gets the startup grace: restarting one that is about to answer
    // would only start the wait over. Every start is a `process` event on NATS: the desktop
    // service's supervisor (natively, and inside the desktop container) and, in compose, that
    // container's own start, which the bridge publishes. A deliberate stop (compose re-creating the
    // container) announces such a start.
    this.cleanups.push(
      this.options.bus.subscribe('process', (event) => {
        if (event.child !== 'obs') return;
        if (event.event === 'started') this.policy.observeStarted(Date.now());
        if (event.event === 'stopped') this.policy.observeStopped(Date.now());
      }),
    );
    const tick = setInterval(() => this.apply(this.policy.tick(Date.now())), this.options.tickMs ?? 250);
    this.cleanups.push(() => clearInterval(tick));
    if (restarter.mode === 'docker') {
      void restarter.container.start();
      this.cleanups.push(() => restarter.container.stop());
    }
    log.info({ mode: restarter.mode, timeoutMs: settings.timeoutMs, wanted: this.policy.wanted() }, 'OBS watchdog on');
  }

  stop(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  snapshot() {
    return this.policy.snapshot();
  }

  /**
   * Records what a command asked for. It holds whether OBS is reachable or not: the caller carries it
   * out now if OBS answers, and otherwise it is applied when OBS is back.
   */
  want(change: WantedChange): void {
    this.policy.want(change, Date.now());
    this.persist();
  }

  private apply(actions: WatchdogAction[] | undefined): void {
    this.persist();
    for (const action of actions ?? []) {
      if (action.type === 'restartObs') void this.restartObs(action);
      else void this.applyWanted(action);
    }
  }

  /** Saves the wanted state when it changed; the store keeps it in memory while JetStream is away. */
  private persist(): void {
    if (this.policy.version === this.savedVersion) return;
    this.savedVersion = this.policy.version;
    this.options.store.put(this.policy.wanted()).catch((error: Error) => this.options.log.warn({ err: error }, 'could not save the wanted state'));
  }

  private async restartObs(action: Extract<WatchdogAction, { type: 'restartObs' }>): Promise<void> {
    const { bus, log, events, restarter } = this.options;
    if (this.restarting || restarter.mode === 'off') return;
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

  /** Sends OBS only what differs from the wanted state; each part on its own, so one failure does not block the rest. */
  private async applyWanted(action: Extract<WatchdogAction, { type: 'applyWanted' }>): Promise<void> {
    const { obs, log, events, switcher } = this.options;
    const { wanted } = action;
    const done: string[] = [];
    const attempt = async (what: string, run: () => Promise<void>) => {
      try {
        await run();
        done.push(what);
      } catch (error) {
        log.error({ err: error, what }, 'applying the wanted state failed');
        events.error(`Could not put back ${what}: ${(error as Error).message}`);
      }
    };
    // The scene first, so a resumed stream never starts on the wrong picture.
    const scene = sceneToRestore(wanted.scene, switcher.wantedScene(), switcher.scenes());
    if (scene && obs.programScene() !== scene) await attempt(`scene ${scene}`, () => obs.setProgramScene(scene));
    if (wanted.streaming && !obs.isStreaming()) await attempt('streaming', () => obs.startStream());
    if (!wanted.streaming && obs.isStreaming()) await attempt('stream stopped', () => obs.stopStream());
    for (const [input, muted] of Object.entries(wanted.muted)) {
      const now = await obs.inputMuted(input).catch(() => null); // an input that is gone is left alone
      if (now !== null && now !== muted) await attempt(`${input} ${muted ? 'muted' : 'unmuted'}`, () => obs.setMute(input, muted));
    }
    if (done.length === 0) return;
    log.info({ done, reason: action.reason }, 'applied the wanted state');
    events.info(`OBS set back as wanted (${action.reason}): ${done.join(', ')}`);
  }
}
