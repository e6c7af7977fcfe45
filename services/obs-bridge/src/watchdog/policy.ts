// The OBS watchdog's decisions, with no I/O: when to restart OBS, and what OBS should be doing (the
// wanted state) so it can be put back whenever OBS answers and differs. Fed with observations and a
// clock; tested on a fake one.
import type { WantedObsState } from '@irlkit/shared';

export interface WatchdogSettings {
  /** OBS unreachable this long → restart it. */
  timeoutMs: number;
  /** After a (re)start, OBS gets this long to come up before it may be restarted again; doubles per failed restart. */
  startupGraceMs: number;
  /** Upper bound of that doubling. */
  maxGraceMs: number;
  /**
   * A stream that stopped this shortly before OBS went away was stopped by OBS shutting down (it ends
   * its outputs on SIGTERM), not by the streamer: a stop OBS reports is taken as wanted only once it
   * is this old and OBS is still there.
   */
  shutdownWindowMs: number;
  /** After the whole stack restarts (the bridge and OBS), a stream that was wanted is started again. */
  resumeAfterRestart: boolean;
}

export const DEFAULT_WATCHDOG_SETTINGS: WatchdogSettings = {
  timeoutMs: 10_000,
  startupGraceMs: 30_000,
  maxGraceMs: 300_000,
  shutdownWindowMs: 3000,
  resumeAfterRestart: true,
};

export type WatchdogAction =
  | { type: 'restartObs'; attempt: number; reason: string }
  /** OBS answers: make it match the wanted state (the runtime compares and sends only what differs). */
  | { type: 'applyWanted'; wanted: WantedObsState; reason: string };

export interface WatchdogSnapshot {
  reachable: boolean;
  unreachableSince: number | null;
  /** Restarts since OBS was last reachable. */
  attempts: number;
  nextRestartAt: number | null;
  wanted: WantedObsState;
}

export type WantedChange = Partial<Pick<WantedObsState, 'streaming' | 'scene'>> & { muted?: { input: string; muted: boolean } };

export class WatchdogPolicy {
  private reachable = false;
  private everReachable = false;
  private unreachableSince: number;
  private lastStartAt: number;
  private attempts = 0;
  private wantedState: WantedObsState;
  /** When OBS reported its stream stopping (not yet taken as wanted: OBS may be shutting down). */
  private stopSeenAt: number | null = null;
  /** Bumped on every change of the wanted state, so the runtime knows when to persist it. */
  version = 0;

  /** `now` is when the bridge started: OBS may still be booting, so it gets the startup grace first. */
  constructor(
    private readonly settings: WatchdogSettings,
    now: number,
  ) {
    this.unreachableSince = now;
    this.lastStartAt = now;
    this.wantedState = { streaming: false, scene: null, muted: {}, updatedAt: now };
  }

  wanted(): WantedObsState {
    return { ...this.wantedState, muted: { ...this.wantedState.muted } };
  }

  /**
   * The wanted state stored before this bridge started. Taken only before OBS is first seen: after
   * that, what was seen and asked for since is newer.
   */
  loadWanted(stored: WantedObsState): void {
    if (this.everReachable) return;
    this.wantedState = { ...stored, muted: { ...stored.muted } };
    this.version += 1;
  }

  /** A command (or another door) asked for this: it is what OBS should do from now on, reachable or not. */
  want(change: WantedChange, now: number): void {
    const next = this.wanted();
    if (change.streaming !== undefined) {
      next.streaming = change.streaming;
      this.stopSeenAt = null;
    }
    if (change.scene !== undefined) next.scene = change.scene;
    if (change.muted) next.muted[change.muted.input] = change.muted.muted;
    this.set(next, now);
  }

  private set(next: WantedObsState, now: number): void {
    const same =
      next.streaming === this.wantedState.streaming &&
      next.scene === this.wantedState.scene &&
      JSON.stringify(next.muted) === JSON.stringify(this.wantedState.muted);
    if (same) return;
    this.wantedState = { ...next, updatedAt: now };
    this.version += 1;
  }

  /** OBS reported its stream starting or stopping (whoever asked: a command, OBS's own window, OBS giving up). */
  observeStreaming(streaming: boolean, now: number): void {
    if (!this.reachable) return;
    if (streaming) {
      this.stopSeenAt = null;
      this.set({ ...this.wanted(), streaming: true }, now);
    } else if (this.wantedState.streaming) {
      this.stopSeenAt = now; // taken as wanted by tick() unless OBS goes away first
    }
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

  /**
   * OBS (its container or its process) was stopped on purpose: `docker stop`, which compose does before
   * it re-creates the container on an upgrade, or the desktop service shutting down. Whoever stopped it
   * is about to start the next one, so the watchdog waits the startup grace from the stop, not only its
   * timeout: restarting in between restarted (or started again) a container compose was replacing.
   * Taken even while OBS still answers: the engine's event can arrive before the socket closes.
   */
  observeStopped(now: number): void {
    this.lastStartAt = Math.max(this.lastStartAt, now);
  }

  /**
   * A scene OBS put on program while reachable: by hand, by the switcher, by the restore. Null (a name
   * the contract cannot carry, made on the desktop) cannot be kept, so the wanted scene stays as it was.
   */
  observeProgramScene(scene: string | null, now: number): void {
    if (this.reachable && scene) this.set({ ...this.wanted(), scene }, now);
  }

  observeMute(input: string, muted: boolean, now: number): void {
    if (!this.reachable) return;
    const next = this.wanted();
    next.muted[input] = muted;
    this.set(next, now);
  }

  /**
   * OBS answered without being asked for a while, its socket still open: it is hung. It is restarted at
   * once: the silence already took longer than the timeout would add.
   */
  observeHung(now: number, silentMs: number): WatchdogAction[] {
    this.attempts += 1;
    this.lastStartAt = now;
    return [{ type: 'restartObs', attempt: this.attempts, reason: `OBS hung (no answer for ${Math.round(silentMs / 100) / 10} s)` }];
  }

  /** OBS's websocket connected (after its state was read) or was lost. */
  observeReachable(reachable: boolean, now: number, current?: { streaming: boolean; scene: string | null }): WatchdogAction[] {
    if (reachable === this.reachable) return [];
    this.reachable = reachable;
    if (!reachable) {
      this.unreachableSince = now;
      this.stopSeenAt = null; // a stop seen just before OBS went away was OBS shutting down
      return [];
    }
    const firstContact = !this.everReachable;
    this.everReachable = true;
    this.attempts = 0;
    // OBS is up: its start is over, so the next outage waits for the timeout only.
    this.lastStartAt = Number.NEGATIVE_INFINITY;
    if (firstContact) {
      // The bridge (re)started. A stream OBS is running is wanted; one that is not running is started
      // again only if the stack restarting should resume it.
      if (current?.streaming) this.set({ ...this.wanted(), streaming: true }, now);
      else if (this.wantedState.streaming && !this.settings.resumeAfterRestart) this.set({ ...this.wanted(), streaming: false }, now);
      if (this.wantedState.scene === null && current?.scene) this.set({ ...this.wanted(), scene: current.scene }, now);
    }
    const downMs = now - this.unreachableSince;
    const reason = firstContact ? 'bridge started' : `OBS back after ${Math.round(downMs / 100) / 10} s`;
    return [{ type: 'applyWanted', wanted: this.wanted(), reason }];
  }

  tick(now: number): WatchdogAction[] {
    if (this.reachable && this.stopSeenAt !== null && now - this.stopSeenAt >= this.settings.shutdownWindowMs) {
      this.stopSeenAt = null;
      this.set({ ...this.wanted(), streaming: false }, now);
    }
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
      wanted: this.wanted(),
    };
  }
}

/**
 * The scene to put back: a scene picked by hand (not one of the switcher's) is kept, so a restart never
 * takes `Privacy` off the air; otherwise the scene the switcher wants, if it wants one.
 */
export function sceneToRestore(wanted: string | null, switcherWants: string | null, switcherScenes: readonly string[]): string | null {
  if (wanted !== null && !switcherScenes.includes(wanted)) return wanted;
  return switcherWants ?? wanted;
}
