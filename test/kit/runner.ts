// The native runner (`./irlkit up`, scripts/runner.ts) as a real child process for end-to-end tests: its
// output collected, its exit awaited, and when a test fails, the runner's own complaints (warnings, errors,
// children that exited, lines that are not log records) added to the failure, so a CI log says why.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Several streams on this 2-core host: each OBS at 240p with the fastest x264 preset, a short SRT latency and a
 * small history per stream (the defaults would fill the JetStream store the streams share).
 */
export const SMALL_STREAMS_ENV: Readonly<Record<string, string>> = {
  OBS_RESOLUTION: '426x240',
  OBS_X264_PRESET: 'ultrafast',
  SRT_LATENCY_MS: '500',
  HISTORY_EVENTS_MAX_MB: '16',
  HISTORY_SAMPLES_MAX_MB: '64',
};

export interface TestRunner {
  readonly process: ChildProcessWithoutNullStreams;
  /** Everything it printed so far (stdout and stderr, interleaved). */
  output(): string;
  /** Its exit code once it exits. */
  readonly exited: Promise<number | null>;
  /** The last `count` lines that say something went wrong (see `complaints`). */
  complaints(count?: number): string[];
  /**
   * Runs a test's body; a failure gets the runner's complaints appended to its message (the body's error
   * is rethrown, its stack kept).
   */
  explain<T>(body: () => Promise<T>): Promise<T>;
  /** SIGTERM, and its exit code. */
  stop(): Promise<number | null>;
}

/**
 * A line of the runner's output worth showing when a test fails: a log record at warning or worse, the runner's
 * own plain lines (a refused configuration and its problems), or a plain line (nats-server's, xpra's, a crash)
 * that speaks of an error.
 */
export function isComplaint(line: string): boolean {
  const record = /^[\w.@-]+\s*\| (.*)$/.exec(line)?.[1] ?? line;
  if (record.startsWith('{')) {
    const level = /"level":(\d+)/.exec(record)?.[1];
    return level === undefined || Number(level) >= 40;
  }
  return /^irlkit: |^ {2}- |error|fail|fatal|refused|denied|panic|exception|\[(ERR|WRN|FTL)\]/i.test(record);
}

export function startRunner(env: Record<string, string>, args: string[] = []): TestRunner {
  const child = spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'scripts/runner.ts'), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const complaints = (count = 30) =>
    out
      .split('\n')
      .filter(isComplaint)
      .slice(-count)
      .map((line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line));
  return {
    process: child,
    output: () => out,
    exited,
    complaints,
    async explain(body) {
      try {
        return await body();
      } catch (error) {
        if (error instanceof Error) {
          const lines = complaints();
          error.message += `\nthe runner's last ${lines.length} warnings and errors:\n${lines.map((l) => `  ${l}`).join('\n') || '  (none)'}`;
        }
        throw error;
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
