// Runs the switcher: feeds the policy from ingest's events, carries out its actions on OBS,
// confirms the picture moves before showing a returned feed, persists settings, publishes state.
import {
  type Bus,
  DEFAULT_SWITCHER_SETTINGS,
  type Logger,
  type Setting,
  type SettingsBucket,
  type SwitcherMode,
  type SwitcherScenes,
  type SwitcherSettings,
  type SwitcherState,
  storedSwitcherSettings,
  switcherMode,
  switcherReasons,
  switcherSettings,
  type Timeline,
  timeline,
} from '@irlkit/shared';
import { FrozenPictureWatch, NO_PICTURE, parsePgm, pictureDifference, STILL_PICTURE_DIFFERENCE } from './picture.ts';
import { type SwitcherAction, SwitcherPolicy } from './policy.ts';

/** What the switcher needs from OBS (implemented by the obs-websocket client). */
export interface SwitcherObs {
  isReachable(): boolean;
  isStreaming(): boolean;
  programScene(): string | null;
  setProgramScene(scene: string): Promise<void>;
  restartMediaInput(input: string): Promise<void>;
  /** A fresh player for the media input (a new connection, timed from now). */
  reopenMediaInput(input: string): Promise<void>;
  stopStream(): Promise<void>;
  /** A small screenshot of one source (a data URL), to tell whether its picture moves. */
  sourceScreenshot(source: string, width: number, format?: 'png' | 'pgm'): Promise<string>;
  /** The media input's player: its cursor moves on while it plays, whatever its picture shows. */
  mediaStatus(input: string): Promise<{ cursorMs: number | null }>;
  onProgramScene(listener: (scene: string | null) => void): () => void;
  onStreaming(listener: (streaming: boolean) => void): () => void;
  onReachable(listener: (reachable: boolean) => void): () => void;
}

export interface SwitcherRuntimeOptions {
  bus: Bus;
  obs: SwitcherObs;
  log: Logger;
  /** Where the streamer's settings are kept (JetStream KV, tolerating its absence). */
  bucket: SettingsBucket;
  /** The streamer's settings until some are stored. */
  defaults?: SwitcherSettings;
  /** The deployment's: the scene for each state, and the OBS media input that shows the feed. */
  scenes: SwitcherScenes;
  mediaInput: string;
  tickMs?: number;
  heartbeatMs?: number;
  /** How often to compare screenshots of the media input while waiting for a moving picture. */
  frameCheckMs?: number;
  /** Restart the media input again if the picture has not moved after this long. */
  frameRetryMs?: number;
  /** While Live or Low: how often to screenshot the feed input (64 px wide) to see that it still moves. */
  pictureCheckMs?: number;
  /** The picture unchanged this long while ingest reports data arriving → restart the feed input once. */
  pictureFrozenMs?: number;
  /** Still not moving this long after that restart → OFFLINE, "picture frozen". */
  pictureRestartWaitMs?: number;
  /** How often to screenshot the media input while a lost feed plays out of the buffers. */
  freezeCheckMs?: number;
  /** The same picture for this long means the buffers ran dry: the picture froze. */
  freezeMs?: number;
}

/** Screenshot width for the frozen-picture watch: enough for camera noise to change pixels, cheap at 1 Hz. */
const PICTURE_WATCH_WIDTH = 64;
/** How long the frozen-picture watch looks closer (a screenshot every 0.1 s) before it acts: over a second, so any picture repeating once a second shows its other phase. */
const PICTURE_CONFIRM_MS = 1200;

export const SWITCHER_SETTINGS_KEY = 'switcher';

/** A watch's turns, until stopped. */
interface Turns {
  stop(): void;
}

/**
 * Runs `step` every `everyMs`, one at a time, until stopped: a step that takes longer than that (a screenshot waits
 * for OBS's next rendered frame, longer under load) is followed by the next at once, not at the next multiple of the
 * interval, so a watch looks as often as OBS can answer (with setInterval's skipped ticks a 45 ms step made a 40 ms
 * watch look every 80 ms). A step that throws waits for the next turn: screenshots fail while OBS is busy or the
 * input is (re)opening, and then each watch's own deadline (the policy's, or its retry) decides.
 */
function inTurns(everyMs: number, step: () => Promise<void>): Turns {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const turn = async () => {
    const startedAt = Date.now();
    try {
      await step();
    } catch {
      // the next turn tries again
    }
    if (!stopped) timer = setTimeout(turn, Math.max(0, startedAt + everyMs - Date.now()));
  };
  timer = setTimeout(turn, everyMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * Runs `step` one at a time at random intervals between half and one and a half `meanMs` (average
 * `meanMs`), until the returned function is called. Sampling a picture at a fixed period locks onto
 * anything in it that repeats at that period (a light blinking once a second, a test feed's flash): every
 * screenshot catches the same phase and the picture reads as frozen. Random spacing cannot lock on.
 */
function inJitteredTurns(meanMs: number, step: () => Promise<void>): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const next = () => {
    if (stopped) return;
    timer = setTimeout(
      async () => {
        try {
          await step();
        } catch {
          // the next turn tries again
        }
        next();
      },
      meanMs * (0.5 + Math.random()),
    );
  };
  next();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

export class SwitcherRuntime {
  private policy!: SwitcherPolicy;
  private readonly events: Timeline;
  private settings!: SwitcherSettings;
  private settingsStore!: Setting<typeof storedSwitcherSettings>;
  private modeSetting!: Setting<typeof switcherMode>;
  private cleanups: Array<() => void> = [];
  private frameWatch: Turns | undefined;
  private freezeWatch: Turns | undefined;
  private lastPublished = '';
  /** OBS was (re)started since the websocket last answered. */
  private obsStarted = false;
  /** A media input restart waiting for OBS's old session to have ended (RESTART_AFTER_SESSION_END_MS). */
  private restartTimer: NodeJS.Timeout | undefined;
  /** A restart or reopen of the media input is under way (waiting for its time, or sent to OBS). */
  private restarting = false;
  /** How many restarts and reopens of the media input have been carried out: the frame watch starts over on each. */
  private inputOpens = 0;
  /** When ingest last reported data arriving (bitrate above zero). */
  private lastDataAt = 0;
  constructor(private readonly options: SwitcherRuntimeOptions) {
    this.events = timeline(options.bus, 'switcher');
  }

  async start(): Promise<void> {
    const { bus, obs, log } = this.options;
    const streamId = bus.streamId;
    this.settingsStore = this.options.bucket.setting(`${SWITCHER_SETTINGS_KEY}_${streamId}_config`, storedSwitcherSettings);
    this.modeSetting = this.options.bucket.setting(`${SWITCHER_SETTINGS_KEY}_${streamId}_mode`, switcherMode);
    // With JetStream away, the defaults until it is back and says otherwise.
    this.settings = (await this.settingsStore.get()) ?? this.options.defaults ?? DEFAULT_SWITCHER_SETTINGS;
    const mode: SwitcherMode = (await this.modeSetting.get()) ?? 'auto';
    this.cleanups.push(
      this.settingsStore.onStored((value) => {
        this.settings = value;
        this.apply(this.policy.setSettings(value));
        log.info('stored switcher settings loaded');
      }),
      this.modeSetting.onStored((value) => this.apply(this.policy.setMode(value))),
    );
    this.policy = new SwitcherPolicy(this.settings, this.options.scenes, Date.now());
    this.policy.observeProgramScene(obs.programScene());
    this.apply(this.policy.setMode(mode));
    this.apply(this.policy.observeStreaming(obs.isStreaming(), Date.now()));

    this.cleanups.push(
      bus.subscribe('ingest.link', (link) => {
        const now = Date.now();
        if (link.event === 'connected' || link.event === 'resumed') {
          this.stopFreezeWatch();
          this.apply(this.policy.linkConnected(now, link.event, { obsSessionEnded: link.obsSessionEnded === true }));
          if (this.policy.awaitingFrames()) this.watchFrames();
        } else if (link.event === 'stalled' || link.event === 'disconnected') {
          this.stopFrameWatch();
          this.apply(
            this.policy.linkLost(now, switcherReasons.feedLost(link.event, link.reason), {
              lastPacketTs: link.lastPacketTs,
              playoutMs: link.playoutMs ?? null,
              srtLatencyMs: link.srtLatencyMs ?? null,
            }),
          );
        }
      }),
      bus.subscribe('ingest.stats', (stats) => {
        if (stats.connected && stats.bitrateKbps > 0) this.lastDataAt = Date.now();
        this.apply(this.policy.sample(Date.now(), stats.bitrateKbps, stats.rttMs, stats.connected));
        if (this.policy.awaitingFrames()) this.watchFrames();
      }),
      obs.onProgramScene((scene) => this.apply(this.policy.observeProgramScene(scene, Date.now()))),
      obs.onStreaming((streaming) => this.apply(this.policy.observeStreaming(streaming, Date.now()))),
      // Every start of OBS (its process natively, its container in compose) is a `process` event.
      bus.subscribe('process', (event) => {
        if (event.child === 'obs' && event.event === 'started') this.obsStarted = true;
      }),
      obs.onReachable((reachable) => {
        if (!reachable) return;
        this.policy.observeProgramScene(obs.programScene());
        if (this.obsStarted) {
          // A new OBS: its feed input opens afresh, so nothing shows it until its picture is seen
          // moving; open the input now rather than when the media source's own reconnect timer fires.
          this.obsStarted = false;
          this.stopFrameWatch();
          this.apply(this.policy.inputReopened(Date.now(), switcherReasons.obsRestarted));
          void this.carryOut({ type: 'restartMedia', reason: 'OBS restarted' });
          if (this.policy.awaitingFrames()) this.watchFrames();
        }
        // Put the scene the switcher wants back on program.
        this.apply(this.policy.setMode(this.policy.snapshot().mode));
      }),
      bus.serve('switcher.mode', async ({ mode }) => {
        await this.modeSetting.put(mode);
        this.apply(this.policy.setMode(mode));
        this.events.info(`Switcher set to ${mode}`);
        return this.state();
      }),
      bus.serve('switcher.config', async (patch) => {
        const parsed = switcherSettings.safeParse({ ...this.settings, ...patch });
        if (!parsed.success) throw new Error(`invalid switcher settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        await this.settingsStore.put(parsed.data);
        this.settings = parsed.data;
        this.apply(this.policy.setSettings(parsed.data));
        this.events.info('Switcher settings changed');
        return parsed.data;
      }),
    );
    const tick = setInterval(() => {
      const now = Date.now();
      this.apply(this.policy.tick(now));
      if (this.policy.watchingForFreeze(now)) this.watchFreeze();
      else this.stopFreezeWatch();
    }, this.options.tickMs ?? 100);
    this.cleanups.push(this.watchPicture());
    const heartbeat = setInterval(() => this.publish(true), this.options.heartbeatMs ?? 1000);
    this.cleanups.push(
      () => clearInterval(tick),
      () => clearInterval(heartbeat),
    );
    this.publish(true);
  }

  async stop(): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.stopFrameWatch();
    this.stopFreezeWatch();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  state(): SwitcherState {
    const s = this.policy.snapshot();
    return {
      ts: Date.now(),
      mode: s.mode,
      state: s.state,
      since: s.since,
      reason: s.reason,
      scene: s.mode === 'auto' ? s.wantedScene : null,
      settings: this.settings,
      scenes: this.options.scenes,
    };
  }

  private publish(heartbeat = false): void {
    const state = this.state();
    const key = JSON.stringify({ ...state, ts: 0 });
    if (!heartbeat && key === this.lastPublished) return;
    this.lastPublished = key;
    this.options.bus.publish('switcher.state', state);
  }

  private apply(actions: SwitcherAction[]): void {
    this.publish();
    for (const action of actions) void this.carryOut(action);
  }

  private async carryOut(action: SwitcherAction): Promise<void> {
    const { obs, log } = this.options;
    if (!obs.isReachable()) {
      // Re-applied when OBS is back (it opens the input anew then anyway).
      if (action.type === 'restartMedia' && !this.restartTimer) this.restarting = false;
      return;
    }
    try {
      if (action.type === 'switchScene') {
        await obs.setProgramScene(action.scene);
        log.info({ scene: action.scene, reason: action.reason }, 'switched scene');
        this.events.info(`Switched to ${action.scene}: ${action.reason}`);
      } else if (action.type === 'restartMedia') {
        if (this.restartTimer) clearTimeout(this.restartTimer);
        this.restartTimer = undefined;
        this.restarting = true;
        const wait = (action.notBefore ?? 0) - Date.now();
        if (wait > 0) {
          this.restartTimer = setTimeout(() => {
            this.restartTimer = undefined;
            void this.carryOut({ type: 'restartMedia', reason: action.reason, ...(action.fresh ? { fresh: true } : {}) });
          }, wait);
          return;
        }
        try {
          await (action.fresh ? obs.reopenMediaInput(this.options.mediaInput) : obs.restartMediaInput(this.options.mediaInput));
        } finally {
          this.inputOpens += 1;
          if (!this.restartTimer) this.restarting = false;
        }
        log.info({ input: this.options.mediaInput, reason: action.reason, fresh: action.fresh === true }, 'restarted media input');
      } else if (action.type === 'stopStream') {
        await obs.stopStream();
        this.events.warn(`Stream stopped: ${action.reason}`);
      }
    } catch (error) {
      log.warn({ err: error, action }, 'switcher action failed');
      this.events.error(`Switcher could not ${action.type === 'switchScene' ? `switch to ${action.scene}` : action.type}: ${(error as Error).message}`);
    }
  }

  /** Compares small screenshots of the media input until two in a row differ: the picture moves. */
  private watchFrames(): void {
    if (this.frameWatch) return;
    const { obs } = this.options;
    const retryMs = this.options.frameRetryMs ?? 3000;
    let last: string | null = null;
    let since = Date.now();
    let restarts = 0;
    let changes = 0;
    let failedShots = 0;
    let opens = this.inputOpens;
    const timer = inTurns(this.options.frameCheckMs ?? 100, async () => {
      if (!obs.isReachable()) return;
      // OBS cannot render a screenshot of an input that has drawn no frame yet ("Failed to render screenshot"):
      // that is no picture, and the wait below goes on. Before, a failure skipped it, so a player stuck before
      // its first frame (its connection swallowed) was never restarted: never Live (CI, and test/frame-watch).
      const shot = await obs.sourceScreenshot(this.options.mediaInput, 96).catch((error: unknown) => {
        if (!failedShots++) this.options.log.debug({ err: error }, 'no screenshot of the media input (no frame drawn yet?)');
        return null;
      });
      if (this.frameWatch !== timer) return;
      // Pictures from before the input's restart or reopen are the last player's (a lost feed's buffer still
      // playing out): they say nothing of the new one. Seen: Live 0.6 s after srt-live-transmit was killed, on the
      // old player's last frames, before the reopen that then blanked the input on air (test/feed-faults.test.ts).
      if (this.restarting || opens !== this.inputOpens) {
        opens = this.inputOpens;
        last = null;
        changes = 0;
        since = Date.now();
        return;
      }
      if (shot !== null) {
        if (last !== null && shot !== last) changes += 1;
        last = shot;
      }
      if (changes >= 2) {
        this.stopFrameWatch();
        this.apply(this.policy.framesConfirmed(Date.now()));
        return;
      }
      // A fresh player shows its first frames about 2.4 s after it opens (measured): it gets twice the wait.
      if (Date.now() - since > (restarts < 2 ? retryMs : 2 * retryMs)) {
        since = Date.now();
        restarts += 1;
        changes = 0;
        // The first retry restarts the input (quick: a player that had ended opens anew at once). Later
        // ones give it a fresh player: a restart only re-times a session OBS still holds, and a picture
        // that did not come with one restart does not come with the next (CI: 13 restarts in 40 s
        // brought nothing while OBS reported the input's audio 19 s behind the clock).
        const reopen = restarts >= 2;
        this.options.log.info({ restarts, reopen, failedShots }, 'picture not moving; restarting the media input');
        if (restarts === 2) this.events.warn(`No moving picture from ${this.options.mediaInput} after a restart: opening it afresh`);
        await (reopen ? obs.reopenMediaInput(this.options.mediaInput) : obs.restartMediaInput(this.options.mediaInput)).catch(() => {});
      }
    });
    this.frameWatch = timer;
  }

  /**
   * While Live or Low with data arriving, screenshots the feed input about once a second (at random
   * spacing, see inJitteredTurns): a picture
   * that stops changing gets its input restarted once, and if it still has not moved a little later
   * the policy goes OFFLINE ("picture frozen"). Camera noise changes a still shot far more than an
   * encoder refining a frozen one (STILL_PICTURE_DIFFERENCE). Before either, it looks closer for 1.2 s
   * (PICTURE_CONFIRM_MS): a picture that repeats once a second can match itself shot after shot.
   */
  private watchPicture(): () => void {
    const { obs, log } = this.options;
    const watch = new FrozenPictureWatch(this.options.pictureFrozenMs ?? 2000, this.options.pictureRestartWaitMs ?? 2000);
    return inJitteredTurns(this.options.pictureCheckMs ?? 1000, async () => {
      const now = Date.now();
      // The policy says when this watch runs: never beside the freeze watch (a lost feed playing out,
      // where a restart would cut good picture short) or the frame watch (OFFLINE, waiting for frames).
      if (!this.policy.watchingPicture() || now - this.lastDataAt > 1500 || !obs.isReachable()) {
        watch.reset(now);
        return;
      }
      // Grayscale PGM: compared by mean difference, since a frozen camera's picture still shifts by a
      // level here and there as the encoder refines it, while camera noise changes far more.
      // A screenshot OBS cannot render is an input that draws nothing (NO_PICTURE): while data arrives that is no
      // better than a frozen picture, and gets the same restart and then Offline (its player had lost its
      // connection and OBS's reconnect went nowhere: Live with an empty input for good, before).
      const take = async () => {
        const image = await obs.sourceScreenshot(this.options.mediaInput, PICTURE_WATCH_WIDTH, 'pgm').catch(() => null);
        return image === null ? NO_PICTURE : parsePgm(image);
      };
      let shot = await take();
      let at = Date.now();
      // Nothing drawn at all cannot be a picture repeating itself: no closer look then.
      if (shot !== NO_PICTURE && watch.wouldAct(shot, at)) {
        // Before restarting anything or calling it frozen: a closer look, a screenshot every 0.1 s for 1.2 s. A
        // picture that moves at all in that second (a strobe's dark phase, a flash's end) is not frozen.
        const until = at + PICTURE_CONFIRM_MS;
        while (Date.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          const closer = await take();
          if (pictureDifference(shot, closer) >= STILL_PICTURE_DIFFERENCE) {
            shot = closer;
            break;
          }
        }
        at = Date.now();
      }
      const verdict = watch.observe(shot, at);
      const none = shot === NO_PICTURE;
      const input = this.options.mediaInput;
      if (verdict?.action === 'restart') {
        log.warn({ input, stillMs: verdict.stillMs, none }, `${none ? 'no picture' : 'picture frozen'} while data arrives; restarting the feed input`);
        const stillS = (verdict.stillMs / 1000).toFixed(1);
        this.events.warn(`${none ? `No picture from ${input}` : 'Picture frozen'} for ${stillS} s while the feed arrives: restarting ${input}`);
        await obs.restartMediaInput(input);
      } else if (verdict?.action === 'frozen') {
        log.warn({ input, none }, `${none ? 'still no picture' : 'picture still frozen'} after restarting the feed input`);
        const waitS = ((this.options.pictureRestartWaitMs ?? 2000) / 1000).toFixed(1);
        this.events.error(`${none ? `Still no picture from ${input}` : 'Picture still frozen'} ${waitS} s after restarting ${input}`);
        this.apply(this.policy.pictureFrozen(at, none ? switcherReasons.noPicture : switcherReasons.pictureFrozen));
        if (this.policy.awaitingFrames()) this.watchFrames();
      }
    });
  }

  /**
   * A lost feed plays out of the buffers: screenshots of the media input, and its player's cursor, until
   * both stay the same for `freezeMs`, the moment viewers would see it freeze (identical PNGs: no new
   * frame). The cursor tells a still picture that plays on (a white or black screen, a static shot that
   * encodes to identical frames, the test feed's flash) from the player running dry: 100 ms of one
   * picture alone cut the moving picture that followed it. It stops a frame or two before the picture
   * does (measured with OBS 29: the frames already handed to OBS still show), so the picture decides
   * the moment. The policy's deadline waits for this watch's look at the picture (`pictureUnchanged`), up to its
   * cap if OBS cannot tell.
   */
  private watchFreeze(): void {
    if (this.freezeWatch) return;
    const { obs, mediaInput } = this.options;
    // 70 ms: the third identical look (one every 40 ms, each answered in about 20 ms) gives the verdict, 0.10 s after
    // the first look at the last picture; with 100 ms it was the fourth, 0.14 s after. The kill's frozen picture on
    // air is mostly this (viewers.e2e's kill case, Offline after the last good frame's first time on air, which
    // includes that frame's own 33 ms: median 150 ms in 4 runs with 100, 134 ms in 10 runs with 70, 34-200 ms).
    const freezeMs = this.options.freezeMs ?? 70;
    let last: { shot: string; cursorMs: number | null; since: number } | null = null;
    /** How many looks this watch took, and how long the last few took (OBS's answer), for the verdict's log line. */
    let looks = 0;
    const recentLookMs: number[] = [];
    const timer = inTurns(this.options.freezeCheckMs ?? 40, async () => {
      if (!obs.isReachable()) return;
      const takenAt = Date.now();
      const [shot, cursorMs] = await Promise.all([
        obs.sourceScreenshot(mediaInput, 96),
        // A player OBS cannot place (no cursor, or no answer) leaves the picture alone to decide.
        obs.mediaStatus(mediaInput).then(
          (status) => status.cursorMs,
          () => null,
        ),
      ]);
      if (this.freezeWatch !== timer) return;
      looks += 1;
      recentLookMs.push(Date.now() - takenAt);
      if (recentLookMs.length > 6) recentLookMs.shift();
      const playedOn = last !== null && cursorMs !== null && last.cursorMs !== null && cursorMs !== last.cursorMs;
      if (last?.shot !== shot || playedOn) {
        // A new picture, or the same one played on: still on air, whatever the deadline says (not the first
        // shot: nothing to compare).
        if (last) this.policy.pictureMoved(takenAt);
        last = { shot, cursorMs, since: takenAt };
      } else if (Date.now() - last.since >= freezeMs) {
        this.stopFreezeWatch();
        this.options.log.info({ stillMs: Date.now() - last.since, looks, recentLookMs }, 'picture froze');
        this.apply(this.policy.pictureFroze(Date.now()));
        return;
      } else {
        this.policy.pictureUnchanged(takenAt);
      }
      // The deadline waits for a look at the picture: the one just taken may be what it waited for.
      this.apply(this.policy.tick(Date.now()));
    });
    this.freezeWatch = timer;
  }

  private stopFreezeWatch(): void {
    this.freezeWatch?.stop();
    this.freezeWatch = undefined;
  }

  private stopFrameWatch(): void {
    this.frameWatch?.stop();
    this.frameWatch = undefined;
  }
}
