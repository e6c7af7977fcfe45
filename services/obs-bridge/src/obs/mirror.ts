// Mirrors OBS onto NATS: obs.state on every change and as a 1 Hz heartbeat, and program screenshots while a
// dashboard page is open.
import type { Bus, Logger, ObsState, Unsubscribe } from '@irlkit/shared';
import type { ObsClient } from './client.ts';
import { amountFrom, countFrom, timecodeFrom } from './replies.ts';

export interface ObsMirrorOptions {
  bus: Bus;
  obs: ObsClient;
  log: Logger;
  heartbeatMs?: number;
  screenshot: { width: number; intervalMs: number; quality: number };
  /** How long one `dashboard.viewers` with pages open keeps screenshots going (the dashboard repeats it every 5 s). */
  viewersTtlMs?: number;
  now?: () => number;
}

/** The dashboard repeats a non-zero count every 5 s; three missed ones end the screenshots. */
export const VIEWERS_TTL_MS = 15_000;

/**
 * Screenshots are taken only while a dashboard page is open (`dashboard.viewers`), at about 1 Hz: each one
 * makes OBS encode a JPEG and this process decode its base64, which nobody needs while no page shows it (most of
 * the bridge's idle CPU). The first one is taken as soon as a page opens, so it shows a picture at once.
 */
export class ObsMirror {
  private timers: NodeJS.Timeout[] = [];
  private stopFollowingViewers: Unsubscribe | undefined;
  /** Screenshots are taken until then: the last count with pages open, plus the TTL; 0 when nobody watches. */
  private watchedUntil = 0;
  private lastBytes: { bytes: number; at: number } | undefined;
  private outputKbps: number | null = null;
  private counters = { dropped: 0, skipped: 0, total: 0, cpu: null as number | null };
  private lastKey = '';
  private shooting = false;
  private readonly onChanged = () => void this.publishState();
  lastState: ObsState | undefined;

  constructor(private readonly options: ObsMirrorOptions) {}

  start(): void {
    this.options.obs.on('changed', this.onChanged);
    this.stopFollowingViewers = this.options.bus.subscribe('dashboard.viewers', ({ viewers }) => this.viewers(viewers));
    this.timers.push(
      setInterval(() => void this.poll(), this.options.heartbeatMs ?? 1000),
      setInterval(() => void this.screenshot(), this.options.screenshot.intervalMs),
    );
    void this.poll();
  }

  stop(): void {
    this.options.obs.off('changed', this.onChanged);
    this.stopFollowingViewers?.();
    this.stopFollowingViewers = undefined;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Whether a dashboard page is open, as far as the last `dashboard.viewers` tells. */
  get watched(): boolean {
    return this.now() < this.watchedUntil;
  }

  /** A count of open dashboard pages: screenshots go on for the TTL when it is not 0, and stop when it is. */
  viewers(count: number): void {
    const was = this.watched;
    this.watchedUntil = count > 0 ? this.now() + (this.options.viewersTtlMs ?? VIEWERS_TTL_MS) : 0;
    if (count > 0 && !was) void this.screenshot(); // the page shows a picture now, not at the next tick
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Reads output and performance counters, then publishes (the heartbeat). */
  private async poll(): Promise<void> {
    const { obs } = this.options;
    if (obs.isReachable()) {
      try {
        const [stream, stats] = await Promise.all([obs.streamStatus(), obs.stats()]);
        const now = Date.now();
        const outputBytes = countFrom(stream.outputBytes);
        if (stream.outputActive) {
          if (this.lastBytes && now > this.lastBytes.at && outputBytes >= this.lastBytes.bytes) {
            this.outputKbps = Math.round(((outputBytes - this.lastBytes.bytes) * 8) / (now - this.lastBytes.at));
          }
          this.lastBytes = { bytes: outputBytes, at: now };
        } else {
          this.lastBytes = undefined;
          this.outputKbps = null;
        }
        // OBS's numbers and timecodes are checked as they enter (obs/replies.ts).
        const cpu = amountFrom(stats.cpuUsage);
        this.counters = {
          dropped: countFrom(stream.outputSkippedFrames),
          skipped: countFrom(stats.renderSkippedFrames) + countFrom(stats.outputSkippedFrames),
          total: countFrom(stream.outputTotalFrames),
          cpu: cpu === null ? null : Math.round(cpu * 10) / 10,
        };
        this.timecodes.stream = stream.outputActive ? timecodeFrom(stream.outputTimecode) : null;
        const record = await obs.recordStatus();
        this.timecodes.record = record.outputActive ? timecodeFrom(record.outputTimecode) : null;
      } catch (error) {
        this.options.log.debug({ err: error }, 'OBS poll failed');
      }
    }
    this.publishState(true);
  }

  private timecodes: { stream: string | null; record: string | null } = { stream: null, record: null };

  private publishState(heartbeat = false): void {
    const { obs, bus } = this.options;
    const reachable = obs.isReachable();
    const state: ObsState = {
      ts: Date.now(),
      reachable,
      streaming: reachable && obs.streaming,
      recording: reachable && obs.recording,
      streamTimecode: reachable && obs.streaming ? this.timecodes.stream : null,
      recordTimecode: reachable && obs.recording ? this.timecodes.record : null,
      programScene: reachable ? obs.scene : null,
      scenes: reachable ? obs.scenes : [],
      micMuted: reachable ? obs.micMuted : null,
      outputKbps: reachable && obs.streaming ? this.outputKbps : null,
      droppedFrames: this.counters.dropped,
      skippedFrames: this.counters.skipped,
      totalFrames: this.counters.total,
      cpuPercent: reachable ? this.counters.cpu : null,
      error: reachable ? null : (obs.lastError ?? 'OBS not reachable').slice(0, 500), // the schema's bound
    };
    const key = JSON.stringify({
      ...state,
      ts: 0,
      streamTimecode: 0,
      recordTimecode: 0,
      outputKbps: 0,
      droppedFrames: 0,
      skippedFrames: 0,
      totalFrames: 0,
      cpuPercent: 0,
    });
    if (!heartbeat && key === this.lastKey) return;
    this.lastKey = key;
    this.lastState = state;
    bus.publish('obs.state', state);
  }

  private async screenshot(): Promise<void> {
    const { obs, bus, screenshot } = this.options;
    if (this.shooting || !this.watched || !obs.isReachable() || !obs.scene) return;
    this.shooting = true;
    try {
      const dataUrl = await obs.sourceScreenshot(obs.scene, screenshot.width, 'jpg', screenshot.quality);
      const data = dataUrl.slice(dataUrl.indexOf(',') + 1);
      const { width, height } = jpegSize(Buffer.from(data, 'base64')) ?? { width: screenshot.width, height: Math.round((screenshot.width * 9) / 16) };
      bus.publish('obs.screenshot', { ts: Date.now(), format: 'jpeg', width, height, data });
    } catch (error) {
      this.options.log.debug({ err: error }, 'screenshot failed');
    } finally {
      this.shooting = false;
    }
  }
}

/** Width and height from a JPEG's SOF marker. */
export function jpegSize(jpeg: Buffer): { width: number; height: number } | undefined {
  let i = 2;
  while (i + 9 < jpeg.length) {
    if (jpeg[i] !== 0xff) return undefined;
    const marker = jpeg[i + 1] as number;
    const length = jpeg.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: jpeg.readUInt16BE(i + 5), width: jpeg.readUInt16BE(i + 7) };
    }
    i += 2 + length;
  }
  return undefined;
}
