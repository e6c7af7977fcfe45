// Owns the obs-websocket connection: reconnects with backoff, caches what OBS reports, and offers
// typed operations with errors a person can read.
import { EventEmitter } from 'node:events';
import type { Logger } from '@irlkit/shared';
import OBSWebSocket, { EventSubscription } from 'obs-websocket-js';
import type { SwitcherObs } from '../switcher/runtime.ts';
import { sceneNameFrom, sceneNamesFrom } from './replies.ts';

export class ObsUnreachableError extends Error {
  override name = 'ObsUnreachableError';
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
  programScene: [string | null];
  streaming: [boolean];
  changed: [];
}

export class ObsClient extends EventEmitter<Events> implements SwitcherObs {
  private readonly ws = new OBSWebSocket();
  private connected = false;
  private stopped = true;
  private retryTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
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
      this.scene = sceneNameFrom(sceneName);
      this.emit('programScene', sceneName);
      this.emit('changed');
    });
    ws.on('SceneListChanged', ({ scenes }) => {
      this.scenes = sceneNamesFrom(scenes, this.skippedScene);
      this.emit('changed');
    });
    ws.on('StreamStateChanged', ({ outputActive }) => {
      if (outputActive === this.streaming) return;
      this.streaming = outputActive;
      this.emit('streaming', outputActive);
      this.emit('changed');
    });
    ws.on('RecordStateChanged', ({ outputActive }) => {
      this.recording = outputActive;
      this.emit('changed');
    });
    ws.on('InputMuteStateChanged', ({ inputName, inputMuted }) => {
      if (inputName !== this.options.micInput) return;
      this.micMuted = inputMuted;
      this.emit('changed');
    });
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.ws.disconnect().catch(() => {});
    this.connected = false;
  }

  isReachable(): boolean {
    return this.connected;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.ws.connect(this.options.url, this.options.password, {
        eventSubscriptions:
          EventSubscription.General | EventSubscription.Scenes | EventSubscription.Outputs | EventSubscription.Inputs | EventSubscription.MediaInputs,
      });
      await this.refresh();
      this.connected = true;
      this.lastError = null;
      this.delayMs = this.options.backoff?.initialMs ?? 250;
      this.options.log.info({ url: this.options.url, scene: this.scene }, 'OBS connected');
      this.emit('reachable', true);
      this.emit('changed');
    } catch (error) {
      const message = (error as Error).message || String(error);
      this.lastError = /auth/i.test(message)
        ? `OBS websocket refused the password at ${this.options.url}`
        : `OBS not reachable at ${this.options.url}: ${message}`;
      await this.ws.disconnect().catch(() => {});
      this.scheduleRetry();
    }
  }

  private onClosed(reason: string): void {
    if (!this.connected) return;
    this.connected = false;
    this.lastError = `OBS connection lost: ${reason}`;
    this.options.log.warn({ reason }, 'OBS connection lost');
    this.emit('reachable', false);
    this.emit('changed');
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.options.backoff?.maxMs ?? 5000, this.delayMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }

  private async refresh(): Promise<void> {
    const [sceneList, stream, record] = await Promise.all([this.ws.call('GetSceneList'), this.ws.call('GetStreamStatus'), this.ws.call('GetRecordStatus')]);
    this.scene = sceneNameFrom(sceneList.currentProgramSceneName);
    this.scenes = sceneNamesFrom(sceneList.scenes, this.skippedScene);
    this.streaming = stream.outputActive;
    this.recording = record.outputActive;
    this.micMuted = await this.ws
      .call('GetInputMute', { inputName: this.options.micInput })
      .then((r) => r.inputMuted)
      .catch(() => null);
  }

  /** Runs a request, turning "not connected" and OBS's own errors into readable messages. */
  async call<T>(what: string, run: (ws: OBSWebSocket) => Promise<T>): Promise<T> {
    if (!this.connected) throw new ObsUnreachableError(`OBS not reachable${this.lastError ? ` (${this.lastError})` : ''}`);
    try {
      return await run(this.ws);
    } catch (error) {
      throw new Error(`${what} failed: ${(error as Error).message}`);
    }
  }

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

  async restartMediaInput(input: string): Promise<void> {
    await this.call(`restarting ${input}`, (ws) =>
      ws.call('TriggerMediaInputAction', { inputName: input, mediaAction: 'OBS_WEBSOCKET_MEDIA_INPUT_ACTION_RESTART' }),
    );
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

  async sourceScreenshot(source: string, width: number, format: 'jpg' | 'png' = 'png', quality = -1): Promise<string> {
    const { imageData } = await this.call('screenshot', (ws) =>
      ws.call('GetSourceScreenshot', { sourceName: source, imageFormat: format, imageWidth: width, imageCompressionQuality: quality }),
    );
    return imageData;
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
}
