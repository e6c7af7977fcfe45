// What viewers see, measured: a flash/beep test feed whose every frame carries its own number, a
// recorder for the RTMP output, and an analyser that tells, frame by frame, which scene was on air,
// which sender frame it showed (so frozen picture and lost picture are exact), and when the beeps came.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { encoderArgs, type Feed, type SrtFeedOptions, srtUrl } from './ffmpeg.ts';

export const FLASH_FPS = 30;
/** Bits of the frame number drawn in the bottom band (36 minutes at 30 fps). */
const FRAME_BITS = 16;
const RASTER_W = 96;
const RASTER_H = 54;

export interface FlashFeedOptions extends SrtFeedOptions {
  outputs?: string[];
  /**
   * How many frames of each second are white (3 unless told): a longer flash is a still picture that lasts,
   * the same in every frame, while the stream plays on.
   */
  flashFrames?: number;
  /** Where in each second the white frames start (frame 0 unless told; the beep stays at the second's start). */
  flashFromFrame?: number;
  /**
   * Seconds added to every timestamp the sender writes (ffmpeg's -output_ts_offset): a sender whose stream
   * is that old when it connects, as one that reconnects mid-stream to a relay does.
   */
  ptsOffsetS?: number;
}

/**
 * A moving test pattern at 640x360/30 fps where the first 3 frames of every second are white and the
 * audio beeps (1 kHz) for the same 100 ms; a white block top-left marks "this is the feed", and a band
 * at the bottom carries the frame number in 16 white/black boxes.
 */
export function flashFeedArgs(options: FlashFeedOptions): string[] {
  const kbps = options.bitrateKbps ?? 2000;
  const flashFrames = options.flashFrames ?? 3;
  const flashFrom = options.flashFromFrame ?? 0;
  const bits = Array.from({ length: FRAME_BITS }, (_, j) => `drawbox=x=${40 * j}:y=320:w=40:h=40:color=white:t=fill:enable='eq(mod(floor(n/${2 ** j}),2),1)'`);
  const video = [
    `testsrc2=size=640x360:rate=${FLASH_FPS}`,
    'drawbox=x=0:y=0:w=64:h=64:color=white:t=fill',
    'drawbox=x=0:y=320:w=640:h=40:color=black:t=fill',
    ...bits,
    `drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(mod(n-${flashFrom},${FLASH_FPS}),${flashFrames})'`,
  ].join(',');
  const outputs = options.outputs ?? [srtUrl(options)];
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-progress',
    'pipe:1',
    '-re',
    '-f',
    'lavfi',
    '-i',
    video,
    '-re',
    '-f',
    'lavfi',
    '-i',
    "aevalsrc='0.5*sin(2*PI*1000*t)*lt(mod(t,1),0.1)':s=48000",
    ...(options.durationS ? ['-t', String(options.durationS)] : []),
    ...encoderArgs({ kbps, keyframeEvery: FLASH_FPS }),
    ...(options.ptsOffsetS ? ['-output_ts_offset', String(options.ptsOffsetS)] : []),
    ...(outputs.length === 1
      ? ['-f', 'mpegts', outputs[0] as string]
      : ['-map', '0:v', '-map', '1:a', '-f', 'tee', outputs.map((o) => `[f=mpegts:onfail=ignore]${o}`).join('|')]),
  ];
}

export interface FlashFeed extends Feed {
  /** Wall-clock ms at which the sender emits frame 0 (frame n goes out at startWallMs + n/fps s). */
  startWallMs(): number;
  /** The sender frame being emitted at a wall-clock time. */
  frameAt(wallMs: number): number;
}

/** Starts the flash feed over SRT; its pacing (-re) gives every frame a known send time. */
export function startFlashFeed(options: FlashFeedOptions): FlashFeed {
  const child = spawn('ffmpeg', flashFeedArgs(options), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  // ffmpeg reports how many frames it has encoded; with -re frame n is read no earlier than n/fps after
  // the start, so wall − frames/fps is at least the true start and its smallest value the best estimate.
  let start = Number.POSITIVE_INFINITY;
  const spawnedAt = Date.now();
  if (child.stdout)
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^frame=(\d+)$/.exec(line);
      if (m && Number(m[1]) > 0) start = Math.min(start, Date.now() - (Number(m[1]) * 1000) / FLASH_FPS);
    });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  const startWallMs = () => (Number.isFinite(start) ? start : spawnedAt);
  return {
    process: child,
    stderr: () => stderr,
    exited,
    kill9: () => killWith('SIGKILL'),
    stop: () => killWith('SIGTERM'),
    startWallMs,
    frameAt: (wallMs) => Math.floor(((wallMs - startWallMs()) * FLASH_FPS) / 1000),
  };
}

export interface Recorder {
  file: string;
  /**
   * Wall-clock ms at which the recording's first packet arrived: output time `firstPtsMs` (ffmpeg's progress
   * counts from the first packet, not from the publisher's time 0). Output time p arrived at this + p − firstPtsMs.
   */
  arrivalWallMs(): number;
  stop(): Promise<void>;
}

/** Records a stream (the RTMP sink's output) to a file, keeping the publisher's timestamps. */
export function startRecorder(url: string, file: string): Recorder {
  const child: ChildProcess = spawn(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-progress', 'pipe:1', '-copyts', '-i', url, '-c', 'copy', '-copyts', '-f', 'flv', file],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  // As for the sender: wall − output time is at least the true arrival of time 0; the smallest wins.
  let arrival = Number.POSITIVE_INFINITY;
  if (child.stdout)
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^out_time_us=(\d+)$/.exec(line);
      if (m && Number(m[1]) > 0) arrival = Math.min(arrival, Date.now() - Number(m[1]) / 1000);
    });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    file,
    arrivalWallMs: () => arrival,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT'); // lets ffmpeg finish the file
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** The sender frame shown in a screenshot of OBS's media input (base64 PNG/JPEG), or null if none is readable. */
export function senderFrameOfImage(base64: string): number | null {
  const data = Buffer.from(base64.replace(/^data:[^,]+,/, ''), 'base64');
  const result = spawnSync('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-vf', `scale=${RASTER_W}:${RASTER_H},format=gray`, '-f', 'rawvideo', 'pipe:1'], {
    input: data,
    maxBuffer: 1 << 20,
  });
  if (result.status !== 0 || result.stdout.length !== RASTER_W * RASTER_H) return null;
  const raster = new Uint8Array(result.stdout);
  if (raster.reduce((sum, v) => sum + v, 0) / raster.length > 200) return null; // a flash hides the number
  return readSenderFrame(raster);
}

/** The sender frame number in a 96x54 grayscale raster of the feed, or null if it is not the feed. */
export function readSenderFrame(raster: Uint8Array): number | null {
  let sum = 0;
  for (let y = 2; y < 8; y++) for (let x = 2; x < 8; x++) sum += raster[y * RASTER_W + x] as number;
  if (sum / 36 <= 190) return null;
  let n = 0;
  for (let j = 0; j < FRAME_BITS; j++) if ((raster[51 * RASTER_W + 6 * j + 3] as number) > 128) n += 2 ** j;
  return n;
}

export interface OutputFrame {
  /** Presentation time on the output, ms. */
  ptsMs: number;
  /** The feed's scene (its marker visible) or anything else (Offline, Low banner aside). */
  scene: 'feed' | 'other';
  flash: boolean;
  /** The sender frame shown (null on other scenes and on flash frames, which hide the band). */
  senderFrame: number | null;
}

export interface Recording {
  frames: OutputFrame[];
  /** Output times (ms) where a beep starts. */
  beepsMs: number[];
  /** Output times (ms) where a run of flash frames starts. */
  flashesMs: number[];
  frameMs: number;
  /**
   * The first packet's time (ms): the publisher's clock, so as old as the stream was when recording began
   * (output times are kept as published: -copyts).
   */
  firstPtsMs: number;
}

/**
 * A command's whole standard output. Asynchronous on purpose: a benchmark reads its recording in the process
 * that also runs obs-bridge, whose watchdog takes a blocked event loop for a hung OBS.
 */
function outputOf(command: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.once('error', reject);
    child.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

async function packetTimes(file: string, stream: 'v' | 'a'): Promise<number[]> {
  const out = await outputOf('ffprobe', ['-v', 'error', '-select_streams', stream, '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', file]);
  return out
    .toString()
    .split('\n')
    .map((l) => Number.parseFloat(l) * 1000)
    .filter((v) => Number.isFinite(v));
}

/** Decodes a recording to tiny grayscale frames and mono audio and reads what was on air. */
export async function analyseRecording(file: string): Promise<Recording> {
  const pts = (await packetTimes(file, 'v')).sort((a, b) => a - b);
  const video = {
    stdout: await outputOf('ffmpeg', [
      '-v',
      'error',
      '-i',
      file,
      '-an',
      '-vf',
      `scale=${RASTER_W}:${RASTER_H},format=gray`,
      '-fps_mode',
      'passthrough',
      '-f',
      'rawvideo',
      'pipe:1',
    ]),
  };
  const size = RASTER_W * RASTER_H;
  const count = Math.min(pts.length, Math.floor(video.stdout.length / size));
  const frames: OutputFrame[] = [];
  const mean = (raster: Buffer, x0: number, y0: number, x1: number, y1: number) => {
    let sum = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += raster[y * RASTER_W + x] as number;
    return sum / ((x1 - x0) * (y1 - y0));
  };
  for (let i = 0; i < count; i++) {
    const raster = video.stdout.subarray(i * size, (i + 1) * size);
    const flash = mean(raster, 0, 0, RASTER_W, RASTER_H) > 200;
    const scene = mean(raster, 2, 2, 8, 8) > 190 ? 'feed' : 'other';
    const senderFrame = scene === 'feed' && !flash ? readSenderFrame(raster) : null;
    frames.push({ ptsMs: pts[i] as number, scene, flash, senderFrame });
  }
  const flashesMs = flashOnsets(frames);
  const audioStart = (await packetTimes(file, 'a'))[0] ?? 0;
  const rate = 8000;
  const audio = { stdout: await outputOf('ffmpeg', ['-v', 'error', '-i', file, '-vn', '-ac', '1', '-ar', String(rate), '-f', 's16le', 'pipe:1']) };
  const samples = new Int16Array(audio.stdout.buffer, audio.stdout.byteOffset, Math.floor(audio.stdout.length / 2));
  const beepsMs = beepOnsets(samples, rate, audioStart);
  const firstPtsMs = Math.min(pts[0] ?? Number.POSITIVE_INFINITY, audioStart || Number.POSITIVE_INFINITY);
  return { frames, beepsMs, flashesMs, frameMs: 1000 / FLASH_FPS, firstPtsMs: Number.isFinite(firstPtsMs) ? firstPtsMs : 0 };
}

/**
 * Output times of the flashes' first white frames. A flash's onset is known only after a frame of the feed's
 * picture: one first seen at the recording's start, or right after another scene was on air (a cut back to the
 * feed mid-flash), may have begun earlier, and its pair would measure the cut, not A/V sync.
 */
export function flashOnsets(frames: OutputFrame[]): number[] {
  return frames.filter((f, i) => f.flash && frames[i - 1]?.scene === 'feed' && !frames[i - 1]?.flash).map((f) => f.ptsMs);
}

/**
 * Times (ms, from `startMs`) at which a beep starts: 5 ms windows loud after at least 300 ms of quiet. A beep
 * already sounding when the audio starts has no known onset and is not counted.
 */
export function beepOnsets(samples: Int16Array, rate: number, startMs: number): number[] {
  const beepsMs: number[] = [];
  const window = Math.round(rate / 200); // 5 ms
  let quietMs = 0;
  for (let i = 0; i + window <= samples.length; i += window) {
    let energy = 0;
    for (let k = i; k < i + window; k++) energy += Math.abs(samples[k] as number);
    const loud = energy / window > 2000;
    if (loud && quietMs >= 300) beepsMs.push(startMs + (i / rate) * 1000);
    quietMs = loud ? 0 : quietMs + 5;
  }
  return beepsMs;
}

/** Runs of identical sender frames on the feed's scene longer than `minMs`: a frozen picture on air. */
export function frozenRuns(rec: Recording, minMs = 100): Array<{ fromMs: number; toMs: number; senderFrame: number }> {
  const runs: Array<{ fromMs: number; toMs: number; senderFrame: number }> = [];
  let start: OutputFrame | undefined;
  let last: OutputFrame | undefined;
  const close = (end: OutputFrame | undefined) => {
    if (start && last && start.senderFrame !== null && last.ptsMs - start.ptsMs + rec.frameMs > minMs)
      runs.push({ fromMs: start.ptsMs, toMs: (end ?? last).ptsMs, senderFrame: start.senderFrame });
  };
  for (const f of rec.frames) {
    if (f.flash) continue; // flashes hide the number; a frozen picture never flashes
    if (f.senderFrame !== null && start?.senderFrame === f.senderFrame) {
      last = f;
      continue;
    }
    // The first repeat is the frame's own due time; what follows it is frozen.
    if (start && last !== start) close(f);
    start = f;
    last = f;
  }
  if (start && last !== start) close(undefined);
  // A run's first frame was shown on time: the frozen part starts one frame later.
  return runs.map((r) => ({ ...r, fromMs: r.fromMs + rec.frameMs }));
}

/** Spans of the output (ms) during which a scene other than the feed was on air. */
export function otherSceneSpans(rec: Recording): Array<{ fromMs: number; toMs: number }> {
  const spans: Array<{ fromMs: number; toMs: number }> = [];
  let from: number | null = null;
  for (const f of rec.frames) {
    if (f.scene === 'other' && from === null) from = f.ptsMs;
    if (f.scene === 'feed' && from !== null) {
      spans.push({ fromMs: from, toMs: f.ptsMs });
      from = null;
    }
  }
  const end = rec.frames.at(-1);
  if (from !== null && end) spans.push({ fromMs: from, toMs: end.ptsMs + rec.frameMs });
  return spans;
}

/** Beep − flash for every flash with a beep within 400 ms (ms; positive: audio late). */
export function avOffsets(rec: Recording): Array<{ atMs: number; offsetMs: number }> {
  const out: Array<{ atMs: number; offsetMs: number }> = [];
  for (const flash of rec.flashesMs) {
    const beep = rec.beepsMs.find((b) => Math.abs(b - flash) < 400);
    if (beep !== undefined) out.push({ atMs: flash, offsetMs: beep - flash });
  }
  return out;
}

/**
 * What the picture did around one flash (for an A/V pair far off): the numbered frames on air just before and
 * after the run of white frames, how many white frames were shown, and the beep measured against the picture's
 * own clock (the output time the flash's first frame was due, from the numbered frames around it: a positive
 * `shownLateMs` with a small `againstClockMs` is a picture that stalled or dropped frames, not sound off its picture).
 */
export function flashContext(rec: Recording, flashMs: number, beepMs: number) {
  const i = rec.frames.findIndex((f) => f.ptsMs === flashMs && f.flash);
  if (i < 0) return undefined;
  let j = i;
  while (rec.frames[j + 1]?.flash) j += 1;
  const before = [...rec.frames.slice(Math.max(0, i - 30), i)].reverse().find((f) => f.senderFrame !== null);
  const after = rec.frames.slice(j + 1, j + 31).find((f) => f.senderFrame !== null);
  const flashFrame = after?.senderFrame != null ? Math.floor(after.senderFrame / FLASH_FPS) * FLASH_FPS : null;
  const frameMs = 1000 / FLASH_FPS;
  const dueMs = flashFrame === null ? null : before?.senderFrame != null ? before.ptsMs + (flashFrame - before.senderFrame) * frameMs : null;
  return {
    whiteShown: j - i + 1,
    before: before ? { frame: before.senderFrame, ptsMs: before.ptsMs } : null,
    after: after ? { frame: after.senderFrame, ptsMs: after.ptsMs } : null,
    flashFrame,
    shownLateMs: dueMs === null ? null : flashMs - dueMs,
    againstClockMs: dueMs === null ? null : beepMs - dueMs,
  };
}

/**
 * Sender → recorder delay of every fresh numbered frame (ms): its arrival (the recorder's arrival of output time 0
 * plus its output time since the recording's first packet) minus the time the sender emitted it.
 */
export function frameDelays(rec: Recording, arrivalWallMs: number, sender: Pick<FlashFeed, 'startWallMs'>): Array<{ ptsMs: number; delayMs: number }> {
  return rec.frames
    .filter((f, i, all) => f.senderFrame !== null && f.senderFrame !== all[i - 1]?.senderFrame)
    .map((f) => ({
      ptsMs: f.ptsMs,
      delayMs: arrivalWallMs + (f.ptsMs - rec.firstPtsMs) - (sender.startWallMs() + ((f.senderFrame as number) * 1000) / FLASH_FPS),
    }));
}

/** Output time − sender frame time for every numbered frame (ms), up to a constant: the delay's course. */
export function delayCourse(rec: Recording): Array<{ atMs: number; delayMs: number }> {
  return rec.frames.filter((f) => f.senderFrame !== null).map((f) => ({ atMs: f.ptsMs, delayMs: f.ptsMs - ((f.senderFrame as number) * 1000) / FLASH_FPS }));
}

/** Reads a recording's file size (for checks that something was recorded). */
export function recordedBytes(file: string): number {
  try {
    return readFileSync(file).length;
  } catch {
    return 0;
  }
}
