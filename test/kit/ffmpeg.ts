// ffmpeg test feeds: a moving test pattern with a tone and a burnt-in clock, sent over SRT (the same
// command line as the runner's demo feed, scripts/test-pattern.ts).

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type SrtFeedOptions, testPatternArgs } from '../../scripts/test-pattern.ts';

export { encoderArgs, type SrtFeedOptions, srtUrl, testPatternArgs } from '../../scripts/test-pattern.ts';

export interface Feed {
  process: ChildProcess;
  /** ffmpeg's stderr so far. */
  stderr(): string;
  exited: Promise<number | null>;
  /** kill -9: the sender vanishes without an SRT shutdown, like a phone losing signal. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export function startSrtFeed(options: SrtFeedOptions): Feed {
  const child = spawn('ffmpeg', testPatternArgs(options), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  return { process: child, stderr: () => stderr, exited, kill9: () => killWith('SIGKILL'), stop: () => killWith('SIGTERM') };
}

/** A sender that reconnects by itself like a phone or BELABOX does: ffmpeg restarted whenever it exits. */
export function startReconnectingFeed(options: SrtFeedOptions, retryMs = 200) {
  let current = startSrtFeed(options);
  let stopped = false;
  let starts = 1;
  /** Each ffmpeg that exited by itself (not stopped): when, its exit code and the end of its stderr. */
  const exits: Array<{ at: number; code: number | null; stderr: string }> = [];
  const loop = async () => {
    while (!stopped) {
      const code = await current.exited;
      if (stopped) break;
      exits.push({ at: Date.now(), code, stderr: current.stderr().slice(-600) });
      await new Promise((r) => setTimeout(r, retryMs));
      if (stopped) break;
      current = startSrtFeed(options);
      starts += 1;
    }
  };
  void loop();
  return {
    get starts() {
      return starts;
    },
    exits,
    current: () => current,
    /** The sender vanishes for good (kill -9, no SRT shutdown) and does not come back. */
    kill9: async () => {
      stopped = true;
      await current.kill9();
    },
    stop: async () => {
      stopped = true;
      await current.stop();
    },
  };
}

/** Stands in for OBS: a reader of ingest's feed output (TCP) discarding what it reads, reconnecting if dropped. */
export function startFeedReader(port: number, host = '127.0.0.1') {
  let stopped = false;
  let child: ChildProcess | undefined;
  let errors = '';
  /** Calls that never opened the feed (see below). */
  let failedCalls = 0;
  /** Frames decoded by readers that have exited, and by the current one so far. */
  let framesBefore = 0;
  let framesNow = 0;
  /** When each reader's ffmpeg exited (its session ended): a relay restart must end it at once. */
  const exits: number[] = [];
  const run = async () => {
    while (!stopped) {
      const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-progress', 'pipe:1', '-i', `tcp://${host}:${port}`];
      child = spawn('ffmpeg', [...args, '-f', 'null', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
      framesNow = 0;
      // Whole lines only: a progress line split across two chunks would read as a smaller count.
      if (child.stdout)
        createInterface({ input: child.stdout }).on('line', (line) => {
          const frame = /^frame=(\d+)$/.exec(line);
          if (frame) framesNow = Number(frame[1]);
        });
      let said = '';
      child.stderr?.on('data', (d: Buffer) => {
        said += d.toString();
      });
      await new Promise((resolve) => child?.once('exit', resolve));
      // A reader that never opened the feed (the relay not listening yet: ffmpeg says only that the URL
      // gave an input/output error) decoded nothing and is tried again: a failed call, not a decoder error.
      const notOpened =
        framesNow === 0 && said.split('\n').every((line) => line.trim() === '' || /Input\/output error|Connection refused|Last message repeated/.test(line));
      if (notOpened) failedCalls += 1;
      else errors = (errors + said).slice(-5000);
      exits.push(Date.now());
      framesBefore += framesNow;
      framesNow = 0;
      if (!stopped) await new Promise((r) => setTimeout(r, 200));
    }
  };
  void run();
  return {
    /** What the readers that opened the feed printed (decoder errors, a session lost mid-stream). */
    errors: () => errors,
    /** Calls that never opened the feed: the relay was not listening yet, or refused. */
    failedCalls: () => failedCalls,
    /** When its sessions ended (ffmpeg exited, to be started again), oldest first. */
    exits: () => [...exits],
    /** Video frames decoded so far (ffmpeg's progress reports, about every 0.5 s). */
    frames: () => framesBefore + framesNow,
    stop: async () => {
      stopped = true;
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child?.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
