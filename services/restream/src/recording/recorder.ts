// The local recording of the program: an ffmpeg copying the relay into Matroska (remuxable, readable
// while written), one file per stretch on air, and the folder kept within its size and age budget.
import { existsSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type ChildEvent, type Logger, RECORDING_FILE_NAME, type RecordingState, Supervisor } from '@irlkit/shared';
import { type RecordingBudget, type RecordingOnDisk, recordingFileName, recordingsToDelete } from './budget.ts';

export interface RecorderSettings {
  ffmpeg: string;
  dir: string;
  streamId: string;
  relayPlayUrl: string;
  relayKey: string;
  budget: RecordingBudget;
  /** How often the budget is enforced while recording. */
  checkEveryMs: number;
}

export class Recorder {
  private supervisor: Supervisor | undefined;
  private current: string | null = null;
  private error: string | null = null;
  private lastStderr: string | null = null;
  private budgetTimer: NodeJS.Timeout | undefined;
  enabled: boolean;

  constructor(
    private readonly settings: RecorderSettings,
    enabled: boolean,
    private readonly log: Logger,
    private readonly onChange: () => void,
    private readonly onChildEvent: (event: ChildEvent) => void,
  ) {
    this.enabled = enabled;
    mkdirSync(settings.dir, { recursive: true });
  }

  get recording(): boolean {
    return this.supervisor !== undefined;
  }

  /** Records while the program is live and recording is on. */
  async apply(programLive: boolean): Promise<void> {
    const want = programLive && this.enabled;
    if (want && !this.supervisor) this.start();
    else if (!want && this.supervisor) await this.stop();
    this.onChange();
  }

  private nextFileName(): string {
    const base = recordingFileName(this.settings.streamId, new Date());
    if (!existsSync(join(this.settings.dir, base))) return base;
    for (let n = 1; ; n++) {
      const name = base.replace(/\.mkv$/, `-${n}.mkv`);
      if (!existsSync(join(this.settings.dir, name))) return name;
    }
  }

  private start(): void {
    this.error = null;
    const supervisor = new Supervisor({
      name: 'recorder',
      command: this.settings.ffmpeg,
      // A new file for every start: a restart never overwrites what was recorded.
      args: () => {
        this.current = this.nextFileName();
        this.enforceBudget();
        return [
          '-hide_banner',
          '-nostdin',
          '-loglevel',
          'error',
          '-rtmp_live',
          'live',
          '-i',
          this.settings.relayPlayUrl,
          '-map',
          '0',
          '-c',
          'copy',
          '-f',
          'matroska',
          join(this.settings.dir, this.current),
        ];
      },
      log: this.log,
      backoff: { initialMs: 1000, maxMs: 15_000 },
      onStderrLine: (line) => {
        this.lastStderr = line.split(this.settings.relayKey).join('***').slice(0, 300);
      },
      onEvent: (event) => {
        if (event.event === 'exited') {
          this.error = this.lastStderr ?? `ffmpeg exited (${event.exitCode ?? event.signal})`;
          this.onChange();
        }
        this.onChildEvent(event);
      },
    });
    this.supervisor = supervisor;
    supervisor.start();
    this.budgetTimer = setInterval(() => {
      this.enforceBudget();
      this.onChange();
    }, this.settings.checkEveryMs);
    this.log.info({ dir: this.settings.dir }, 'recording started');
  }

  private async stop(): Promise<void> {
    const supervisor = this.supervisor;
    this.supervisor = undefined;
    if (this.budgetTimer) clearInterval(this.budgetTimer);
    this.budgetTimer = undefined;
    // SIGTERM: ffmpeg finishes the file (cues, duration) before it exits.
    if (!supervisor) return;
    await supervisor.stop();
    this.log.info({ file: this.current }, 'recording stopped');
    this.current = null;
    this.enforceBudget();
  }

  files(): RecordingOnDisk[] {
    let names: string[];
    try {
      names = readdirSync(this.settings.dir);
    } catch {
      return [];
    }
    const files: RecordingOnDisk[] = [];
    for (const name of names) {
      if (!RECORDING_FILE_NAME.test(name)) continue;
      try {
        const stat = statSync(join(this.settings.dir, name));
        if (stat.isFile()) files.push({ name, bytes: stat.size, modifiedAt: Math.round(stat.mtimeMs) });
      } catch {
        // deleted meanwhile
      }
    }
    return files.sort((a, b) => b.modifiedAt - a.modifiedAt);
  }

  /** Deletes the oldest recordings beyond the budget, never the one being written. */
  enforceBudget(): string[] {
    const doomed = recordingsToDelete(this.files(), this.settings.budget, Date.now(), this.current);
    for (const name of doomed) {
      try {
        unlinkSync(join(this.settings.dir, name));
        this.log.info({ file: name }, 'recording deleted: over the budget');
      } catch (error) {
        this.log.warn({ file: name, err: error }, 'could not delete a recording');
      }
    }
    return doomed;
  }

  state(): RecordingState {
    const files = this.files().slice(0, 500);
    return {
      ts: Date.now(),
      enabled: this.enabled,
      status: !this.enabled ? 'off' : this.supervisor ? (this.supervisor.running ? 'recording' : 'failed') : 'idle',
      current: this.current,
      error: this.supervisor ? this.error : null,
      files,
      usedBytes: files.reduce((sum, f) => sum + f.bytes, 0),
      budget: { maxBytes: this.settings.budget.maxBytes, maxAgeHours: this.settings.budget.maxAgeMs / 3_600_000 },
    };
  }

  async close(): Promise<void> {
    await this.stop();
  }
}
