// The OBS watchdog's decisions, with no I/O: when to restart OBS, and what to restore once it is back.
// Fed with observations and a clock; tested on a fake one.

export interface WatchdogSettings {
  /** OBS unreachable this long → restart it. */
  timeoutMs: number;
  /** After a (re)start, OBS gets this long to come up before it may be restarted again; doubles per failed restart. */
  startupGraceMs: number;
  /** Upper bound of that doubling. */
  maxGraceMs: number;
  /**
   * A stream that stopped this shortly before OBS went away was stopped by OBS shutting down (it ends
   * its outputs on SIGTERM), not by the streamer: it counts as still on.
   */
  shutdownWindowMs: number;
  /**
   * After a restore is issued, how long its intent outlives an OBS that goes away again before the
   * stream it asked for is seen running: a second outage in that window restores the same state.
   */
  restoreWindowMs: number;
}

export const DEFAULT_WATCHDOG_SETTINGS: WatchdogSettings = {
  timeoutMs: 10_000,
  startupGraceMs: 30_000,
  maxGraceMs: 300_000,
  shutdownWindowMs: 3000,
  restoreWindowMs: 60_000,
};

export type WatchdogAction =
  | { type: 'restartObs'; attempt: number; reason: string }
  | { type: 'restore'; streaming: boolean; scene: string | null; reason: string };

export interface WatchdogSnapshot {
  reachable: boolean;
  unreachableSince: number | null;
  /** Restarts since OBS was last reachable. */
  attempts: number;
  nextRestartAt: number | null;
  /** What will be restored when OBS is back. */
  preCrash: { streaming: boolean; scene: string | null };
}

export class WatchdogPolicy {
  private reachable = false;
  private everReachable = false;
  private unreachableSince: number;
  private lastStartAt: number;
  private attempts = 0;
  private streaming = false;
  private streamingStoppedAt: number | null = null;
  private scene: string | null = null;
  private preCrash: { streaming: boolean; scene: string | null } = { streaming: false, scene: null };
  /** A restored stream not yet seen running is still wanted until then (ms), should OBS go away again. */
  private restoreStreamingUntil: number | null = null;

  /** `now` is when the bridge started: OBS may still be booting, so it gets the startup grace first. */
  constructor(
    private readonly settings: WatchdogSettings,
    now: number,
  ) {
    this.unreachableSince = now;
    this.lastStartAt = now;
  }

  observeStreaming(streaming: boolean, now: number): void {
    if (!this.reachable || streaming === this.streaming) return;
    this.streaming = streaming;
    this.streamingStoppedAt = streaming ? null : now;
    if (streaming) this.restoreStreamingUntil = null; // the restored stream is seen running
  }

  /**
   * OBS (its process or its container) was just started, by anyone: compose re-creating it, the
   * engine's restart policy, the desktop service's supervisor or this watchdog. An OBS that is booting
   * gets the startup grace before it may be restarted, so a restart never kills one that is about to
   * answer.
   */
  observeStarted(now: number): void {
    if (this.reachable) return;
    this.lastStartAt = Math.max(this.lastStartAt, now);
  }

  observeProgramScene(scene: string | null): void {
    if (this.reachable && scene) this.scene = scene;
  }

  /** OBS's websocket connected (after its state was read) or was lost. */
  observeReachable(reachable: boolean, now: number, current?: { streaming: boolean; scene: string | null }): WatchdogAction[] {
    if (reachable === this.reachable) return [];
    this.reachable = reachable;
    if (!reachable) {
      this.unreachableSince = now;
      const stoppedByShutdown = this.streamingStoppedAt !== null && now - this.streamingStoppedAt <= this.settings.shutdownWindowMs;
      // Gone again before a restored stream was seen running: that stream is still wanted.
      const restoringStream = this.restoreStreamingUntil !== null && now <= this.restoreStreamingUntil;
      this.restoreStreamingUntil = null;
      this.preCrash = { streaming: this.streaming || stoppedByShutdown || restoringStream, scene: this.scene };
      return [];
    }
    const wasUp = this.everReachable;
    this.everReachable = true;
    this.attempts = 0;
    // OBS is up: its start is over, so the next outage waits for the timeout only.
    this.lastStartAt = Number.NEGATIVE_INFINITY;
    this.streaming = current?.streaming ?? false;
    this.streamingStoppedAt = null;
    this.scene = current?.scene ?? null;
    if (!wasUp) return []; // first contact: nothing known to restore
    const restore = { streaming: this.preCrash.streaming, scene: this.preCrash.scene };
    const downMs = now - this.unreachableSince;
    if (!restore.streaming && restore.scene === null) return [];
    // The scene being restored is the one wanted until OBS reports another; the stream until it is seen running.
    this.scene = restore.scene ?? this.scene;
    this.restoreStreamingUntil = restore.streaming && !this.streaming ? now + this.settings.restoreWindowMs : null;
    return [{ type: 'restore', ...restore, reason: `OBS back after ${Math.round(downMs / 100) / 10} s` }];
  }

  tick(now: number): WatchdogAction[] {
    const due = this.nextRestartAt();
    if (due === null || now < due) return [];
    this.attempts += 1;
    this.lastStartAt = now;
    const downS = Math.round((now - this.unreachableSince) / 100) / 10;
    return [{ type: 'restartObs', attempt: this.attempts, reason: `obs-websocket unreachable for ${downS} s` }];
  }

  private grace(): number {
    const doublings = Math.max(0, this.attempts - 1);
    return Math.min(this.settings.maxGraceMs, this.settings.startupGraceMs * 2 ** doublings);
  }

  nextRestartAt(): number | null {
    if (this.reachable) return null;
    return Math.max(this.unreachableSince + this.settings.timeoutMs, this.lastStartAt + this.grace());
  }

  snapshot(): WatchdogSnapshot {
    return {
      reachable: this.reachable,
      unreachableSince: this.reachable ? null : this.unreachableSince,
      attempts: this.attempts,
      nextRestartAt: this.nextRestartAt(),
      preCrash: { ...this.preCrash },
    };
  }
}

/**
 * The scene to put back after a restart: a scene picked by hand (not one of the switcher's) is kept,
 * so a restart never takes `Privacy` off the air; otherwise the scene the switcher wants, if it wants one.
 */
export function sceneToRestore(preCrash: string | null, switcherWants: string | null, switcherScenes: readonly string[]): string | null {
  if (preCrash !== null && !switcherScenes.includes(preCrash)) return preCrash;
  return switcherWants ?? preCrash;
}
