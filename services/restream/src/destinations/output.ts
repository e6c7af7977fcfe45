// One destination: an ffmpeg that copies the program from the relay to the platform (never re-encodes),
// supervised alone with backoff, its health read from ffmpeg's -progress output and its errors.
import { type DestinationHealth, type Logger, type StoredDestination, Supervisor } from '@irlkit/shared';
import { describeEnd, destinationHost, keyHint, OutputLog, outputTarget, ProgressParser, redact } from './target.ts';

export interface OutputSettings {
  ffmpeg: string;
  /** rtmp://127.0.0.1:<port>/program/<relay key>: where the copy reads the program. */
  relayPlayUrl: string;
  relayKey: string;
  /** No media sent this long after a start: the attempt is ended (an unreachable host can take minutes to say so). */
  connectTimeoutMs: number;
  /** Connected, and nothing more sent this long: the attempt is ended. */
  stallTimeoutMs: number;
  retry: { initialMs: number; maxMs: number };
  /** CA bundle rtmps:// destinations are checked against; empty: not checked. */
  tlsCaFile: string;
}

/** The ffmpeg arguments of one copy. */
function copyArgs(destination: Pick<StoredDestination, 'url' | 'key'>, settings: Pick<OutputSettings, 'relayPlayUrl' | 'tlsCaFile'>): string[] {
  const target = outputTarget(destination);
  const tls = destination.url.startsWith('rtmps://') && settings.tlsCaFile ? ['-tls_verify', '1', '-ca_file', settings.tlsCaFile] : [];
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'level+verbose',
    '-progress',
    'pipe:1',
    '-stats_period',
    '1',
    '-rtmp_live',
    'live',
    '-i',
    settings.relayPlayUrl,
    '-map',
    '0',
    '-c',
    'copy',
    ...tls,
    '-f',
    target.format,
    target.url,
  ];
}

export class DestinationOutput {
  private destination: StoredDestination;
  private supervisor: Supervisor | undefined;
  private status: DestinationHealth['status'];
  private error: string | null = null;
  private failures = 0;
  private retryAt: number | null = null;
  private connectedAt: number | null = null;
  private everConnected = false;
  private bitrateKbps = 0;
  private droppedFrames = 0;
  private attempt:
    | { startedAt: number; log: OutputLog; progress: ProgressParser; lastBytes: number; lastBytesAt: number; timedOut: 'connect' | 'stall' | null }
    | undefined;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    destination: StoredDestination,
    private readonly settings: OutputSettings,
    private readonly log: Logger,
    private readonly onChange: () => void,
    private readonly now: () => number = Date.now,
  ) {
    this.destination = destination;
    this.status = destination.enabled ? 'idle' : 'disabled';
  }

  get id(): string {
    return this.destination.id;
  }

  get running(): boolean {
    return this.supervisor !== undefined;
  }

  /** Takes a changed destination; a running copy whose URL or key changed starts over with the new ones. */
  async update(destination: StoredDestination, programLive: boolean): Promise<void> {
    const changedTarget = destination.url !== this.destination.url || destination.key !== this.destination.key;
    this.destination = destination;
    if (!destination.enabled) {
      await this.stop('disabled');
      return;
    }
    if (!programLive) {
      await this.stop('idle');
      return;
    }
    if (this.supervisor && changedTarget) await this.stop('idle');
    if (!this.supervisor) this.start();
    else this.onChange();
  }

  private start(): void {
    const secrets = [this.destination.key, this.settings.relayKey];
    const host = destinationHost(this.destination.url);
    this.status = 'connecting';
    this.error = null;
    this.failures = 0;
    this.everConnected = false;
    const supervisor = new Supervisor({
      name: `destination ${this.destination.id}`,
      command: this.settings.ffmpeg,
      args: () => copyArgs(this.destination, this.settings),
      log: this.log,
      backoff: { initialMs: this.settings.retry.initialMs, maxMs: this.settings.retry.maxMs, factor: 2, resetAfterMs: 30_000 },
      stopTimeoutMs: 3000,
      onStdoutLine: (line) => this.onProgress(line),
      onStderrLine: (line) => this.attempt?.log.line(line),
      onEvent: (event) => {
        if (this.supervisor !== supervisor) return;
        if (event.event === 'started') {
          const now = this.now();
          this.attempt = { startedAt: now, log: new OutputLog(host, secrets), progress: new ProgressParser(), lastBytes: 0, lastBytesAt: now, timedOut: null };
          this.retryAt = null;
          this.status = this.everConnected ? 'reconnecting' : this.failures > 0 ? 'failed' : 'connecting';
          this.onChange();
        } else if (event.event === 'exited') {
          const attempt = this.attempt;
          const reason = describeEnd({
            host,
            connected: attempt?.log.connected ?? false,
            sentBytes: attempt?.lastBytes ?? 0,
            errors: attempt?.log.errors.length ? attempt.log.errors : event.detail ? [redact(event.detail, secrets)] : [],
            timedOut: attempt?.timedOut ?? null,
          });
          const wasConnected = this.connectedAt !== null;
          this.failures = wasConnected ? 1 : this.failures + 1;
          this.status = this.everConnected ? 'reconnecting' : 'failed';
          this.error = reason;
          this.connectedAt = null;
          this.bitrateKbps = 0;
          this.retryAt = event.restartInMs === null ? null : this.now() + event.restartInMs;
          this.attempt = undefined;
          this.log.warn({ destination: this.destination.id, name: this.destination.name, reason, retryInMs: event.restartInMs }, 'destination attempt ended');
          this.onChange();
        }
      },
    });
    this.supervisor = supervisor;
    supervisor.start();
    this.watchdog = setInterval(() => this.checkProgress(), 1000);
    this.onChange();
  }

  private onProgress(line: string): void {
    const attempt = this.attempt;
    if (!attempt) return;
    const sample = attempt.progress.line(line);
    if (!sample) return;
    const now = this.now();
    if (sample.totalBytes > attempt.lastBytes) {
      const seconds = Math.max(0.001, (now - attempt.lastBytesAt) / 1000);
      this.bitrateKbps = attempt.lastBytes === 0 ? 0 : Math.round(((sample.totalBytes - attempt.lastBytes) * 8) / 1000 / seconds);
      attempt.lastBytes = sample.totalBytes;
      attempt.lastBytesAt = now;
      this.droppedFrames = sample.droppedFrames;
      if (this.connectedAt === null) {
        this.connectedAt = now;
        this.everConnected = true;
        this.status = 'connected';
        this.failures = 0;
        this.error = null;
        this.log.info({ destination: this.destination.id, name: this.destination.name }, 'destination connected');
        this.onChange();
      }
    }
  }

  /** Ends an attempt that never got going, or that stopped sending: ffmpeg alone can wait minutes. */
  private checkProgress(): void {
    const attempt = this.attempt;
    if (!attempt || !this.supervisor?.running || attempt.timedOut) return;
    const now = this.now();
    if (this.connectedAt === null && now - attempt.startedAt > this.settings.connectTimeoutMs) attempt.timedOut = 'connect';
    else if (this.connectedAt !== null && now - attempt.lastBytesAt > this.settings.stallTimeoutMs) attempt.timedOut = 'stall';
    else return;
    this.supervisor.kill();
  }

  /** Stops the copy (if any) and shows `status`. */
  async stop(status: 'idle' | 'disabled'): Promise<void> {
    const supervisor = this.supervisor;
    this.supervisor = undefined;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.attempt = undefined;
    this.status = status;
    this.connectedAt = null;
    this.bitrateKbps = 0;
    this.retryAt = null;
    if (status === 'disabled') this.error = null;
    this.onChange();
    await supervisor?.stop();
  }

  health(): DestinationHealth {
    const now = this.now();
    return {
      id: this.destination.id,
      name: this.destination.name,
      url: this.destination.url,
      keyHint: keyHint(this.destination.key),
      enabled: this.destination.enabled,
      status: this.status,
      error: this.error,
      bitrateKbps: this.status === 'connected' ? this.bitrateKbps : 0,
      droppedFrames: this.droppedFrames,
      uptimeMs: this.connectedAt === null ? 0 : now - this.connectedAt,
      failures: this.failures,
      retryInMs: this.retryAt === null ? null : Math.max(0, this.retryAt - now),
    };
  }
}
