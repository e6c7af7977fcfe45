// Keeps one child process running: restarts it with exponential backoff and reports each change.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from './log.ts';
import type { ProcessEvent } from './schemas/index.ts';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** A child that ran this long counts as healthy: the next restart starts from initialMs again. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 10_000, factor: 2, resetAfterMs: 10_000 };

export type ChildEvent = Pick<ProcessEvent, 'event' | 'pid' | 'exitCode' | 'signal' | 'restartInMs' | 'detail'> & {
  child: string;
};

export interface SupervisorOptions {
  name: string;
  command: string;
  /** Arguments, computed again before every start (so a restart picks up new settings). */
  args: () => string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  log: Logger;
  backoff?: Partial<BackoffOptions>;
  onEvent?: (event: ChildEvent) => void;
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
  /** Time given to exit after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number;
  /** On restartNow(): time given to exit after SIGTERM before SIGKILL (a hung child may never act on SIGTERM). */
  restartKillAfterMs?: number;
}

export class Supervisor {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
  /** restartNow() was called: the next exit restarts at once. */
  private restartAsked = false;
  private startedAt = 0;
  private readonly backoff: BackoffOptions;
  restarts = 0;

  constructor(private readonly options: SupervisorOptions) {
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.delayMs = this.backoff.initialMs;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    this.stopping = false;
    this.spawnChild();
  }

  private spawnChild(): void {
    const { name, command, log } = this.options;
    const args = this.options.args();
    const child = spawn(command, args, {
      cwd: this.options.cwd,
      env: this.options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.startedAt = Date.now();
    if (this.options.onStdoutLine && child.stdout) {
      createInterface({ input: child.stdout }).on('line', this.options.onStdoutLine);
    } else child.stdout?.resume();
    if (this.options.onStderrLine && child.stderr) {
      createInterface({ input: child.stderr }).on('line', this.options.onStderrLine);
    } else child.stderr?.resume();

    child.once('spawn', () => {
      log.info({ child: name, pid: child.pid }, 'child started');
      this.emit({ event: 'started', pid: child.pid ?? null, exitCode: null, signal: null, restartInMs: null, detail: null });
    });
    child.once('error', (error) => {
      // spawn failures (ENOENT) arrive here, and no 'exit' follows.
      if (child.pid === undefined) this.onExit(child, null, null, error.message);
    });
    child.once('exit', (code, signal) => this.onExit(child, code, signal, null));
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, error: string | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    const { name, log } = this.options;
    if (this.stopping) {
      this.emit({ event: 'stopped', pid: child.pid ?? null, exitCode: code, signal, restartInMs: null, detail: null });
      return;
    }
    if (Date.now() - this.startedAt >= this.backoff.resetAfterMs) this.delayMs = this.backoff.initialMs;
    // A restart asked for by hand happens at once, once; the backoff that follows starts from the
    // initial delay, so a child that keeps crashing afterwards is never respawned in a tight loop.
    const restartInMs = this.restartAsked ? 0 : this.delayMs;
    if (this.restartAsked) this.delayMs = this.backoff.initialMs;
    else this.delayMs = Math.min(this.backoff.maxMs, this.delayMs * this.backoff.factor);
    this.restartAsked = false;
    log.warn({ child: name, code, signal, error, restartInMs }, 'child exited; restarting');
    this.emit({ event: 'exited', pid: child.pid ?? null, exitCode: code, signal, restartInMs, detail: error });
    this.restartTimer = setTimeout(() => this.respawn(), restartInMs);
  }

  private respawn(): void {
    this.restartTimer = undefined;
    if (this.stopping) return;
    this.restarts += 1;
    this.emit({ event: 'restarting', pid: null, exitCode: null, signal: null, restartInMs: 0, detail: null });
    this.spawnChild();
  }

  /**
   * Ends the running child, or cuts short the wait before its restart: it starts again at once. The
   * child gets SIGTERM (and SIGCONT, so a stopped one can act on it), then SIGKILL if it is still there
   * after restartKillAfterMs: a hung process may never end on SIGTERM.
   */
  restartNow(): void {
    if (this.stopping) return;
    if (!this.child && this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.delayMs = this.backoff.initialMs;
      this.respawn();
      return;
    }
    const child = this.child;
    if (!child) return;
    this.restartAsked = true;
    child.kill('SIGTERM');
    child.kill('SIGCONT');
    const killTimer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) {
        this.options.log.warn({ child: this.options.name, pid: child.pid }, 'child did not end on SIGTERM; SIGKILL');
        child.kill('SIGKILL');
      }
    }, this.options.restartKillAfterMs ?? 3000);
    child.once('exit', () => clearTimeout(killTimer));
  }

  /**
   * Ends the running child at once (SIGKILL) as a failed run: it restarts after the usual backoff. For a
   * watchdog that judged the child stuck (restartNow() restarts at once instead).
   */
  kill(): void {
    if (this.stopping) return;
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.child = undefined;
      return;
    }
    await new Promise<void>((resolve) => {
      const killTimer = setTimeout(() => child.kill('SIGKILL'), this.options.stopTimeoutMs ?? 5000);
      child.once('exit', () => {
        clearTimeout(killTimer);
        resolve();
      });
      child.kill('SIGTERM');
      child.kill('SIGCONT'); // a stopped (hung) child acts on SIGTERM only once it runs
    });
  }

  private emit(event: Omit<ChildEvent, 'child'>): void {
    try {
      this.options.onEvent?.({ child: this.options.name, ...event });
    } catch (error) {
      this.options.log.error({ err: error }, 'supervisor event handler failed');
    }
  }
}
