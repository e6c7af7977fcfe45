// ffmpeg test feeds: a moving test pattern with a tone and a burnt-in clock, sent over SRT.

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SrtFeedOptions {
  port: number;
  host?: string;
  bitrateKbps?: number;
  passphrase?: string;
  /** SRT latency in ms (converted to ffmpeg's µs). */
  latencyMs?: number;
  width?: number;
  height?: number;
  fps?: number;
  durationS?: number;
  streamId?: string;
  /**
   * What the camera sees: a moving test pattern (default); a still, dark scene with camera noise
   * (a static shot in a dim room); or the moving pattern that freezes after `freezeAfterFrames`
   * frames while the encoder keeps sending (a sender whose camera hung).
   */
  scene?: 'moving' | 'noisy-still' | 'freezes';
  freezeAfterFrames?: number;
}

export interface Feed {
  process: ChildProcess;
  /** ffmpeg's stderr so far. */
  stderr(): string;
  exited: Promise<number | null>;
  /** kill -9: the sender vanishes without an SRT shutdown, like a phone losing signal. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** The caller's URL. The passphrase travels as ffmpeg's -passphrase option (see testPatternArgs), not in here. */
export function srtUrl(options: SrtFeedOptions): string {
  const params = new URLSearchParams({ mode: 'caller', latency: String((options.latencyMs ?? 200) * 1000), pkt_size: '1316' });
  // The stream id goes in as phones write it: Debian's ffmpeg (5.1) does not URL-decode it, so
  // `publish%2Flive%2Fx` would reach the server as such. Only '&' cannot be carried this way.
  const streamId = options.streamId ? `&streamid=${options.streamId}` : '';
  return `srt://${options.host ?? '127.0.0.1'}:${options.port}?${params}${streamId}`;
}

export function testPatternArgs(options: SrtFeedOptions): string[] {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const fps = options.fps ?? 30;
  const kbps = options.bitrateKbps ?? 2500;
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-re',
    '-f',
    'lavfi',
    '-i',
    options.scene === 'noisy-still'
      ? `color=c=0x303030:size=${width}x${height}:rate=${fps},noise=alls=7:allf=t`
      : `testsrc2=size=${width}x${height}:rate=${fps}`,
    '-re',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    ...(options.durationS ? ['-t', String(options.durationS)] : []),
    '-vf',
    options.scene === 'noisy-still'
      ? 'null'
      : `drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf:text='%{localtime\\:%T}':x=20:y=20:fontsize=36:fontcolor=white:box=1:boxcolor=black@0.6${
          options.scene === 'freezes'
            ? `,split[a][b];[a][b]freezeframes=first=${options.freezeAfterFrames ?? 150}:last=2147483647:replace=${(options.freezeAfterFrames ?? 150) - 1}`
            : ''
        }`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-b:v',
    `${kbps}k`,
    '-minrate',
    `${kbps}k`,
    '-maxrate',
    `${kbps}k`,
    '-bufsize',
    `${Math.round(kbps / 2)}k`,
    '-x264-params',
    'nal-hrd=cbr:filler=1',
    '-g',
    String(fps),
    '-keyint_min',
    String(fps),
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-ar',
    '48000',
    '-f',
    'mpegts',
    '-mpegts_flags',
    '+resend_headers',
    // As an option, the passphrase reaches SRT intact; in the URL, ffmpeg turns '+' into a space and cannot carry '&'.
    ...(options.passphrase ? ['-passphrase', options.passphrase] : []),
    srtUrl(options),
  ];
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
  const loop = async () => {
    while (!stopped) {
      await current.exited;
      if (stopped) break;
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
    current: () => current,
    stop: async () => {
      stopped = true;
      await current.stop();
    },
  };
}

/** Stands in for OBS: an SRT caller reading the relayed feed and discarding it, reconnecting if dropped. */
export function startSrtReader(port: number, host = '127.0.0.1') {
  let stopped = false;
  let child: ChildProcess | undefined;
  let errors = '';
  /** Frames decoded by readers that have exited, and by the current one so far. */
  let framesBefore = 0;
  let framesNow = 0;
  const run = async () => {
    while (!stopped) {
      const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-progress', 'pipe:1', '-i', `srt://${host}:${port}?mode=caller&latency=200000`];
      child = spawn('ffmpeg', [...args, '-f', 'null', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
      framesNow = 0;
      // Whole lines only: a progress line split across two chunks would read as a smaller count.
      if (child.stdout)
        createInterface({ input: child.stdout }).on('line', (line) => {
          const frame = /^frame=(\d+)$/.exec(line);
          if (frame) framesNow = Number(frame[1]);
        });
      child.stderr?.on('data', (d: Buffer) => {
        errors = (errors + d.toString()).slice(-5000);
      });
      await new Promise((resolve) => child?.once('exit', resolve));
      framesBefore += framesNow;
      framesNow = 0;
      if (!stopped) await new Promise((r) => setTimeout(r, 200));
    }
  };
  void run();
  return {
    errors: () => errors,
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
