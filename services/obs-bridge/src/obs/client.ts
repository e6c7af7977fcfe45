// Owns the obs-websocket connection: reconnects with backoff, caches what OBS reports, offers typed
// operations with errors a person can read, and tells a hung OBS from a live one by asking it.
import { EventEmitter } from 'node:events';
import type { Logger } from '@irlkit/shared';
import OBSWebSocket, { EventSubscription, OBSWebSocketError } from 'obs-websocket-js';
import type { SwitcherObs } from '../switcher/runtime.ts';
import { sceneNameFrom, sceneNamesFrom } from './replies.ts';

/** How long a hidden media input is shown for a restart: a few frames at any frame rate OBS runs. */
const RESTART_SHOWN_MS = 150;

/**
 * Every obs-websocket call gives up after this long, and so do the connect and the state read after
 * it: a call OBS never answers must not freeze what waits on it (the preview, a command, a reconnect).
 */
export const OBS_CALL_TIMEOUT_MS = 4000;
/** Liveness: OBS is asked for its statistics this often while connected. */
export const OBS_PING_INTERVAL_MS = 2000;
/** This many ping intervals in a row without a word from OBS means it is hung (its socket may well be open). */
export const OBS_PING_MISSES = 3;
/**
 * How often the silence is measured: finer than the ping interval, so a hang is called at most half a
 * second after OBS_PING_MISSES intervals of silence rather than up to a whole interval later.
 */
const OBS_LIVENESS_CHECK_MS = 500;

export class ObsUnreachableError extends Error {
  override name = 'ObsUnreachableError';
}

export class ObsTimeoutError extends Error {
  override name = 'ObsTimeoutError';
}

export interface ObsClientOptions {
  url: string;
  password: string;
  micInput: string;
  log: Logger;
  backoff?: { initialMs: number; maxMs: number };
}

interface Events {
  reachable: [boolean];
  /** The program scene as the contract carries it: null for a name it cannot (see obs/replies.ts). */
  programScene: [string | null];
  streaming: [boolean];
  changed: [];
  mute: [string, boolean];
  /** OBS stopped answering while its socket stayed open; the socket is being closed. */
  hung: [{ silentMs: number }];
  /** A media input (by name) started playing. */
  mediaStarted: [string];
}

/** The part of the `ws` socket under obs-websocket-js that closes at once, without a close handshake. */
type RawSocket = { terminate?(): void; close(): void } | undefined;

export class ObsClient extends EventEmitter<Events> implements SwitcherObs {
  private readonly ws = new OBSWebSocket();
  private connected = false;
  private stopped = true;
  private retryTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private pingTimer: NodeJS.Timeout | undefined;
  private pinging = false;
  private lastPingAt = 0;
  /** Rejecters of the calls waiting for OBS's answer, so a closed socket fails them at once. */
  private readonly pending = new Set<(error: Error) => void>();
  /** When OBS last answered anything (a reply, an event); null before the first answer. */
  private lastAnswerAt: number | null = null;
  private hungReason: string | null = null;
  lastError: string | null = 'not connected yet';
  scene: string | null = null;
  scenes: string[] = [];
  streaming = false;
  recording = false;
  micMuted: boolean | null = null;
  private readonly skippedScene = (reason: string) => this.options.log.warn({ reason }, 'skipping a scene OBS listed: the contract cannot carry it');

  constructor(private readonly options: ObsClientOptions) {
    super();
    this.delayMs = options.backoff?.initialMs ?? 250;
    const ws = this.ws;
    ws.on('ConnectionClosed', (error) => this.onClosed(error.message || 'connection closed'));
    ws.on('CurrentProgramSceneChanged', ({ sceneName }) => {
      this.answered();
      this.scene = sceneNameFrom(sceneName);
      this.emit('programScene', this.scene);
      this.emit('changed');
    });
    ws.on('SceneListChanged', ({ scenes }) => {
      this.scenes = sceneNamesFrom(scenes, this.skippedScene);
      this.emit('changed');
    });
    ws.on('StreamStateChanged', ({ outputActive }) => {
      this.answered();
      if (outputActive === this.streaming) return;
      this.streaming = outputActive;
      this.emit('streaming', outputActive);
      this.emit('changed');
    });
    ws.on('RecordStateChanged', ({ outputActive }) => {
      this.recording = outputActive;
      this.emit('changed');
    });
    ws.on('MediaInputPlaybackStarted', ({ inputName }) => {
      this.answered();
      this.emit('mediaStarted', inputName);
    });
    ws.on('InputMuteStateChanged', ({ inputName, inputMuted }) => {
      this.answered();
      this.emit('mute', inputName, inputMuted);
      if (inputName !== this.options.micInput) return;
      this.micMuted = inputMuted;
      this.emit('changed');
    });
  }

  start(): void {
    this.stopped = false;
    this.pingTimer = setInterval(() => this.checkLiveness(), OBS_LIVENESS_CHECK_MS);
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    // A clean close, but never waiting on an OBS that does not answer it.
    await this.bounded('disconnecting', this.ws.disconnect()).catch(() => this.terminate());
    this.connected = false;
  }

  isReachable(): boolean {
    return this.connected;
  }

  /** How long ago OBS last answered anything; null if it never has. */
  lastAnswerAgeMs(now = Date.now()): number | null {
    return this.lastAnswerAt === null ? null : now - this.lastAnswerAt;
  }

  private answered(): void {
    this.lastAnswerAt = Date.now();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.bounded(
        'connecting',
        this.ws.connect(this.options.url, this.options.password, {
          eventSubscriptions:
            EventSubscription.General | EventSubscription.Scenes | EventSubscription.Outputs | EventSubscription.Inputs | EventSubscription.MediaInputs,
        }),
      );
      this.answered();
      await this.refresh();
      if (this.stopped) return;
      this.connected = true;
      this.lastError = null;
      this.hungReason = null;
      this.delayMs = this.options.backoff?.initialMs ?? 250;
      this.options.log.info({ url: this.options.url, scene: this.scene }, 'OBS connected');
      this.emit('reachable', true);
      this.emit('changed');
    } catch (error) {
      const message = (error as Error).message || String(error);
      this.lastError = /auth/i.test(message)
        ? `OBS websocket refused the password at ${this.options.url}`
        : `OBS not reachable at ${this.options.url}: ${message}`;
      // Closed at once: a half-open connection must not hold up the next attempt.
      this.terminate();
      this.scheduleRetry();
    }
  }

  private onClosed(reason: string): void {
    // Whatever was waiting for an answer on this socket will never get one.
    this.rejectPending(new ObsUnreachableError(`OBS connection lost: ${reason}`));
    if (!this.connected) return;
    this.connected = false;
    this.lastError = this.hungReason ?? `OBS connection lost: ${reason}`;
    this.options.log.warn({ reason: this.lastError }, 'OBS connection lost');
    this.emit('reachable', false);
    this.emit('changed');
    this.scheduleRetry();
  }

  /**
   * A connected OBS that has said nothing for OBS_PING_MISSES ping intervals is hung (a frozen process
   * keeps its TCP socket open), so its socket is closed; otherwise it is asked something cheap every
   * ping interval, so silence can be told from having nothing to say.
   */
  private checkLiveness(): void {
    if (!this.connected) return;
    const silentMs = this.lastAnswerAgeMs() ?? 0;
    if (silentMs >= OBS_PING_INTERVAL_MS * OBS_PING_MISSES) {
      this.hungReason = `OBS hung: no answer for ${(silentMs / 1000).toFixed(1)} s`;
      this.options.log.warn({ silentMs }, 'OBS hung; closing its socket');
      this.emit('hung', { silentMs });
      this.terminate();
      return;
    }
    if (this.pinging || Date.now() - this.lastPingAt < OBS_PING_INTERVAL_MS) return;
    this.pinging = true;
    this.lastPingAt = Date.now();
    this.bounded('liveness ping', this.ws.call('GetStats'))
      .catch(() => {})
      .finally(() => {
        this.pinging = false;
      });
  }

  /** Closes the socket without a close handshake (a hung OBS would never answer one). */
  private terminate(): void {
    const socket = (this.ws as unknown as { socket: RawSocket }).socket;
    if (socket?.terminate) socket.terminate();
    else socket?.close();
  }

  private rejectPending(error: Error): void {
    for (const reject of [...this.pending]) reject(error);
  }

  /**
   * Waits for OBS's answer for at most OBS_CALL_TIMEOUT_MS, and no longer than the socket stays open.
   * An answer (even OBS refusing the request) counts as a sign of life.
   */
  private bounded<T>(what: string, request: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const settle = (error: Error) => {
        clearTimeout(timer);
        this.pending.delete(settle);
        reject(error);
      };
      const timer = setTimeout(() => settle(new ObsTimeoutError(`${what}: OBS did not answer within ${OBS_CALL_TIMEOUT_MS} ms`)), OBS_CALL_TIMEOUT_MS);
      this.pending.add(settle);
      request.then(
        (value) => {
          this.answered(); // late or not, OBS is alive
          if (!this.pending.has(settle)) return;
          clearTimeout(timer);
          this.pending.delete(settle);
          resolve(value);
        },
        (error: unknown) => {
          if (!this.pending.has(settle)) return;
          if (error instanceof OBSWebSocketError && error.code >= 100) this.answered(); // OBS's own refusal
          settle(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    const delay = this.delayMs;
    // OBS is on this machine or its internal network, and a refused connect costs nothing: try at least
    // every half second, so a restarted OBS is driven again within half a second of its websocket opening
    // (a restarted OBS opens it about 2 s after it starts; a 1 s cap lost up to a second of air there).
    this.delayMs = Math.min(this.options.backoff?.maxMs ?? 500, this.delayMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }

  private async refresh(): Promise<void> {
    const [sceneList, stream, record] = await Promise.all([
      this.bounded('reading the scene list', this.ws.call('GetSceneList')),
      this.bounded('reading the stream status', this.ws.call('GetStreamStatus')),
      this.bounded('reading the record status', this.ws.call('GetRecordStatus')),
    ]);
    this.scene = sceneNameFrom(sceneList.currentProgramSceneName);
    this.scenes = sceneNamesFrom(sceneList.scenes, this.skippedScene);
    this.streaming = stream.outputActive;
    this.recording = record.outputActive;
    this.micMuted = await this.bounded('reading the mic', this.ws.call('GetInputMute', { inputName: this.options.micInput }))
      .then((r) => r.inputMuted)
      .catch(() => null);
  }

  /**
   * Runs a request, bounded in time and by the socket, turning "not connected", silence and OBS's own
   * errors into readable messages.
   */
  async call<T>(what: string, run: (ws: OBSWebSocket) => Promise<T>): Promise<T> {
    if (!this.connected) throw new ObsUnreachableError(`OBS not reachable${this.lastError ? ` (${this.lastError})` : ''}`);
    try {
      return await this.bounded(what, run(this.ws));
    } catch (error) {
      if (error instanceof ObsUnreachableError || error instanceof ObsTimeoutError) throw error;
      throw new Error(`${what} failed: ${(error as Error).message}`);
    }
  }

  /** OBS's program scene, or null when it has a name the contract cannot carry (made on the desktop). */
  programScene(): string | null {
    return this.scene;
  }
  isStreaming(): boolean {
    return this.streaming;
  }

  async setProgramScene(scene: string): Promise<void> {
    if (this.connected && !this.scenes.includes(scene)) throw new Error(`no scene named "${scene}"`);
    await this.call(`switching to ${scene}`, (ws) => ws.call('SetCurrentProgramScene', { sceneName: scene }));
  }

  /**
   * Restarts the media input (OBS's RESTART media action). An input whose player has ended (its
   * reconnect timer running) opens a new connection now; one still playing keeps its connection and its
   * demuxer and is only re-timed, which leaves its timestamps behind the clock by the gap (OBS then restarts
   * its audio: "audio is lagging"). That demuxer would take a new sender's timestamps for wrapped while they are
   * more than 60 s below the first one it read (a lost second of sound where they pass that mark): the feed input
   * is provisioned with ffmpeg's wrap guess off (desktop's provision/obs-files.ts). OBS 29 restarts a media input only
   * while a view shows it (`ffmpeg_source_restart` checks `obs_source_showing`); otherwise the input
   * waits out its own reconnect delay. The feed input is hidden exactly while the switcher shows
   * OFFLINE and waits for it, so the Offline scene holds it as a hidden, 2-pixel item under the
   * slate: shown while OBS carries the restart out (it queues media actions for its next video
   * frame), then hidden again; the reopened input has no sound yet in that moment.
   */
  async restartMediaInput(input: string): Promise<void> {
    await this.call(`restarting ${input}`, async (ws) => {
      const restart = () => ws.call('TriggerMediaInputAction', { inputName: input, mediaAction: 'OBS_WEBSOCKET_MEDIA_INPUT_ACTION_RESTART' });
      const sceneName = this.scene;
      const item = sceneName ? await ws.call('GetSceneItemId', { sceneName, sourceName: input }).catch(() => undefined) : undefined;
      if (!sceneName || !item) return void (await restart());
      const { sceneItemEnabled } = await ws.call('GetSceneItemEnabled', { sceneName, sceneItemId: item.sceneItemId });
      if (sceneItemEnabled) return void (await restart());
      await ws.call('SetSceneItemEnabled', { sceneName, sceneItemId: item.sceneItemId, sceneItemEnabled: true });
      try {
        await restart();
        // OBS carries out media actions on its next video frames: stay shown until it has.
        await new Promise((r) => setTimeout(r, RESTART_SHOWN_MS));
      } finally {
        await ws.call('SetSceneItemEnabled', { sceneName, sceneItemId: item.sceneItemId, sceneItemEnabled: false });
      }
    });
  }

  /**
   * Gives the media input a fresh player: its settings applied again (unchanged), on which OBS 29's media
   * source destroys its player and opens a new connection whose frames are timed from now, shown or not.
   * Slower than restartMediaInput on a session that works (a new player shows its first frames about
   * 2 s later, measured), but it cannot inherit a stuck or mistimed one: the way out when a restart
   * did not bring a moving picture, and the way to drop whatever OBS had buffered.
   */
  async reopenMediaInput(input: string): Promise<void> {
    await this.call(`reopening ${input}`, async (ws) => {
      const { inputSettings } = await ws.call('GetInputSettings', { inputName: input });
      const url = (inputSettings as { input?: unknown }).input;
      await ws.call('SetInputSettings', { inputName: input, inputSettings: typeof url === 'string' ? { input: url } : {}, overlay: true });
    });
  }

  async startStream(): Promise<void> {
    if (this.streaming) return;
    await this.call('starting the stream', (ws) => ws.call('StartStream'));
  }

  async stopStream(): Promise<void> {
    if (!this.streaming) return;
    await this.call('stopping the stream', (ws) => ws.call('StopStream'));
  }

  async setMute(input: string, muted: boolean): Promise<void> {
    await this.call(`muting ${input}`, async (ws) => {
      const { inputs } = await ws.call('GetInputList');
      if (!(inputs as Array<{ inputName: string }>).some((i) => i.inputName === input)) throw new Error(`no input named "${input}"`);
      await ws.call('SetInputMute', { inputName: input, inputMuted: muted });
    });
    if (input === this.options.micInput) this.micMuted = muted;
  }

  async inputMuted(input: string): Promise<boolean> {
    const { inputMuted } = await this.call(`reading the mute of ${input}`, (ws) => ws.call('GetInputMute', { inputName: input }));
    return inputMuted;
  }

  /** The input's audio sync offset in ms (positive: its audio plays later). */
  async audioSyncOffset(input: string): Promise<number> {
    const { inputAudioSyncOffset } = await this.call(`reading the audio sync offset of ${input}`, (ws) =>
      ws.call('GetInputAudioSyncOffset', { inputName: input }),
    );
    return inputAudioSyncOffset;
  }

  async setAudioSyncOffset(input: string, ms: number): Promise<void> {
    await this.call(`setting the audio sync offset of ${input}`, (ws) => ws.call('SetInputAudioSyncOffset', { inputName: input, inputAudioSyncOffset: ms }));
  }

  async sourceScreenshot(source: string, width: number, format: 'jpg' | 'png' | 'pgm' = 'png', quality = -1): Promise<string> {
    const { imageData } = await this.call('screenshot', (ws) =>
      ws.call('GetSourceScreenshot', { sourceName: source, imageFormat: format, imageWidth: width, imageCompressionQuality: quality }),
    );
    return imageData;
  }

  /** The media input's player: its cursor (ms of the stream it has played; null when OBS has none). */
  async mediaStatus(input: string): Promise<{ cursorMs: number | null }> {
    const status = await this.call(`reading the media status of ${input}`, (ws) => ws.call('GetMediaInputStatus', { inputName: input }));
    return { cursorMs: status.mediaCursor };
  }

  async streamStatus() {
    return this.call('reading the stream status', (ws) => ws.call('GetStreamStatus'));
  }
  async recordStatus() {
    return this.call('reading the record status', (ws) => ws.call('GetRecordStatus'));
  }
  async stats() {
    return this.call('reading OBS statistics', (ws) => ws.call('GetStats'));
  }

  onProgramScene(listener: (scene: string | null) => void): () => void {
    this.on('programScene', listener);
    return () => this.off('programScene', listener);
  }
  onStreaming(listener: (streaming: boolean) => void): () => void {
    this.on('streaming', listener);
    return () => this.off('streaming', listener);
  }
  onReachable(listener: (reachable: boolean) => void): () => void {
    this.on('reachable', listener);
    return () => this.off('reachable', listener);
  }
  onMute(listener: (input: string, muted: boolean) => void): () => void {
    this.on('mute', listener);
    return () => this.off('mute', listener);
  }
  /** A media input (re)started playing: a new player, with an A/V offset of its own until its audio is anchored again. */
  onMediaStarted(listener: (input: string) => void): () => void {
    this.on('mediaStarted', listener);
    return () => this.off('mediaStarted', listener);
  }
  onHung(listener: (info: { silentMs: number }) => void): () => void {
    this.on('hung', listener);
    return () => this.off('hung', listener);
  }
}
