// Owns Xvfb and OBS: starts the display, then OBS on it, and restarts either when it dies.
import { existsSync, rmSync } from 'node:fs';
import { type ChildEvent, type Logger, Supervisor } from '@irlkit/shared';
import { COLLECTION, PROFILE } from '../provision/obs-files.ts';
import { type ObsAudioWarning, parseObsAudioWarning } from './obs-log.ts';

export interface ObsRuntimeOptions {
  display: string;
  screen: { width: number; height: number };
  configDir: string;
  obsBinary: string;
  xvfbBinary: string;
  log: Logger;
  onChildEvent(event: ChildEvent): void;
  /** OBS logged something about its audio that viewers would notice (buffering grew, lagging audio). */
  onAudioWarning?(warning: ObsAudioWarning): void;
}

export class ObsRuntime {
  readonly xvfb: Supervisor;
  readonly obs: Supervisor;

  constructor(private readonly options: ObsRuntimeOptions) {
    const displayNumber = options.display.slice(1);
    const { log } = options;
    this.xvfb = new Supervisor({
      name: 'xvfb',
      command: options.xvfbBinary,
      args: () => {
        // A stale lock from a killed Xvfb would keep the display from starting again.
        rmSync(`/tmp/.X${displayNumber}-lock`, { force: true });
        return [options.display, '-screen', '0', `${options.screen.width}x${options.screen.height}x24`, '-nolisten', 'tcp', '-noreset'];
      },
      log,
      onEvent: options.onChildEvent,
      onStderrLine: (line) => log.debug({ child: 'xvfb', line }),
    });
    this.obs = new Supervisor({
      name: 'obs',
      command: options.obsBinary,
      args: () => ['--disable-updater', '--disable-shutdown-check', '--multi', '--profile', PROFILE, '--collection', COLLECTION],
      env: {
        ...process.env,
        DISPLAY: options.display,
        XDG_CONFIG_HOME: options.configDir,
        LIBGL_ALWAYS_SOFTWARE: '1',
        QT_QPA_PLATFORM: 'xcb',
      },
      log,
      backoff: { initialMs: 500, maxMs: 10_000 },
      stopTimeoutMs: 8000,
      // A restart (the watchdog's, for a hung OBS) waits less: streaming again is what matters then.
      restartKillAfterMs: 3000,
      onEvent: options.onChildEvent,
      onStdoutLine: (line) => this.obsLine(line),
      onStderrLine: (line) => this.obsLine(line),
    });
  }

  private obsLine(line: string): void {
    const warning = parseObsAudioWarning(line);
    if (warning) {
      this.options.log.warn({ child: 'obs', line, kind: warning.kind }, 'obs audio');
      this.options.onAudioWarning?.(warning);
      return;
    }
    if (/^error:|Failed|crash/i.test(line)) this.options.log.warn({ child: 'obs', line }, 'obs');
    else this.options.log.trace({ child: 'obs', line });
  }

  async start(): Promise<void> {
    this.xvfb.start();
    const socket = `/tmp/.X11-unix/X${this.options.display.slice(1)}`;
    const deadline = Date.now() + 10_000;
    while (!existsSync(socket) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (!existsSync(socket)) throw new Error(`Xvfb did not open display ${this.options.display} within 10 s`);
    this.obs.start();
  }

  /** Restarts OBS (the obs.restart command); the display stays. */
  restartObs(): void {
    this.obs.restartNow();
  }

  async stop(): Promise<void> {
    await this.obs.stop();
    await this.xvfb.stop();
  }
}
