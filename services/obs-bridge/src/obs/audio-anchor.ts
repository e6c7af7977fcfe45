// Keeps the feed's sound on its picture. OBS 29 times a media input's audio from when its first audio
// arrives and its picture from when its first frame is drawn, and keeps whatever gap that leaves (up to
// 70 ms) for as long as the player plays: every open of the feed input (a new sender, a restart after an
// outage, OBS's own reconnect) came out with an A/V offset of its own, audio 6–68 ms ahead of the picture
// (measured on the RTMP output). OBS places an input's audio afresh on its picture's timing when the
// input's sync offset changes from a value other than zero, so the anchor moves the offset by 1 ms and
// back once the new player's picture is drawn. `pnpm bench viewers` (docs/BENCHMARKS.md): five fresh opens
// through irlkit at −3…+1 ms (−66…−5 before), OBS's own offset about −2 ms.
import { type Bus, type Logger, obsAudioLag } from '@irlkit/shared';
import type { ObsClient } from './client.ts';

export interface FeedAudioAnchorOptions {
  obs: Pick<ObsClient, 'audioSyncOffset' | 'setAudioSyncOffset' | 'isReachable' | 'onMediaStarted' | 'onProgramScene' | 'onReachable'>;
  bus: Pick<Bus, 'subscribe'>;
  /** The feed's media input. */
  input: string;
  /** Scenes that show the feed: its picture is drawn once one of them is on program. */
  feedScenes: () => string[];
  log: Logger;
  /** After a (re)start of the input: when to anchor (its first frames come about 2.4 s after it opens). */
  afterStartMs?: number[];
  /** After a scene showing the feed went on program, or OBS reset the input's audio: when to anchor. */
  afterChangeMs?: number;
  /** How long the offset stays 1 ms off: long enough for some of the input's audio to pass (a packet is about 21 ms). */
  holdMs?: number;
}

/** OBS's limits of a sync offset (ms). */
const MAX_SYNC_OFFSET_MS = 20_000;

export class FeedAudioAnchor {
  private readonly timers = new Set<NodeJS.Timeout>();
  private cleanups: Array<() => void> = [];
  private running: Promise<void> | null = null;
  private again = false;
  /** The offset to put back, while an anchor has moved it. */
  private restoreTo: number | null = null;
  /** Anchors carried out (for the heartbeat and tests). */
  anchored = 0;

  constructor(private readonly options: FeedAudioAnchorOptions) {}

  start(): void {
    const { obs, bus, input } = this.options;
    const afterChangeMs = this.options.afterChangeMs ?? 1000;
    this.cleanups.push(
      obs.onMediaStarted((name) => {
        if (name !== input) return;
        for (const ms of this.options.afterStartMs ?? [3000, 6000]) this.later(ms);
      }),
      obs.onProgramScene((scene) => {
        if (scene && this.options.feedScenes().includes(scene)) this.later(afterChangeMs);
      }),
      obs.onReachable((reachable) => {
        if (reachable) this.later(afterChangeMs);
      }),
      // OBS restarted the input's audio timing (its audio lagged): anchored on arrival again.
      bus.subscribe('process', (event) => {
        if (event.child === 'obs' && event.event === 'warning' && event.detail && obsAudioLag.input(event.detail) === input) this.later(afterChangeMs);
      }),
    );
  }

  stop(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private later(ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.anchor();
    }, ms);
    this.timers.add(timer);
  }

  /** Places the input's audio afresh on its picture's timing. One at a time; a request meanwhile runs once more after. */
  async anchor(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.nudge();
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async nudge(): Promise<void> {
    const { obs, input, log } = this.options;
    if (!obs.isReachable()) return;
    let offset: number;
    try {
      // An anchor cut short (OBS went away) left the offset 1 ms off: the one to come back to is the one before.
      offset = this.restoreTo ?? (await obs.audioSyncOffset(input));
    } catch (error) {
      log.debug({ err: error, input }, 'audio anchor: cannot read the sync offset');
      return;
    }
    this.restoreTo = offset;
    const aside = offset < MAX_SYNC_OFFSET_MS ? offset + 1 : offset - 1;
    try {
      await obs.setAudioSyncOffset(input, aside);
      await new Promise((r) => setTimeout(r, this.options.holdMs ?? 200));
    } catch (error) {
      log.warn({ err: error, input }, 'audio anchor: cannot move the sync offset');
    }
    // Back to the streamer's offset whatever happened; from a value other than zero, this is what places the audio.
    try {
      await obs.setAudioSyncOffset(input, offset);
      this.restoreTo = null;
    } catch (error) {
      log.warn({ err: error, input, offset }, 'audio anchor: cannot restore the sync offset (next time)');
      return;
    }
    this.anchored += 1;
    log.info({ input, offsetMs: offset }, 'feed audio anchored on its picture');
  }
}
