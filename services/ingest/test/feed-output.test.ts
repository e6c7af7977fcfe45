// The feed output OBS reads: transport streams made by ffmpeg (H.264 and HEVC, as phones and BELABOX send
// them) read for their keyframes, and a reader that joins a running stream gets the program tables first and
// its first video at a keyframe, checked by ffprobe on what it received.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { createLogger } from '@irlkit/shared';
import { freeTcpPort, waitFor } from '@irlkit/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { FeedOutput } from '../src/srt/feed-output.ts';
import { TS_PACKET_BYTES, TsPacketizer, TsProgram, tsPid } from '../src/wire/mpegts.ts';

const FPS = 30;
const GOP = 15;

function encoderArgs(codec: 'h264' | 'hevc'): string[] {
  return codec === 'h264'
    ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(GOP), '-keyint_min', String(GOP), '-sc_threshold', '0', '-bf', '0']
    : ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', `keyint=${GOP}:min-keyint=${GOP}:scenecut=0:bframes=0:log-level=error`];
}

const sources = ['-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=${FPS}`, '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000'];

/** A finished transport stream of `seconds`, as a sender would produce it. */
function transportStream(codec: 'h264' | 'hevc', seconds: number): Buffer {
  const r = spawnSync('ffmpeg', ['-v', 'error', ...sources, '-t', String(seconds), ...encoderArgs(codec), '-c:a', 'aac', '-f', 'mpegts', 'pipe:1'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr.toString()}`);
  return r.stdout;
}

/** ffprobe on a transport stream: its video frames in order, with their key flags, and what it complained of. */
function videoFrames(ts: Buffer): { keys: boolean[]; errors: string } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=key_frame', '-of', 'csv=p=0', 'pipe:0'], {
    input: ts,
    maxBuffer: 64 * 1024 * 1024,
  });
  const keys = r.stdout
    .toString()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().startsWith('1'));
  return { keys, errors: r.stderr.toString() };
}

describe('TsProgram', () => {
  for (const codec of ['h264', 'hevc'] as const) {
    it(`finds every keyframe of a ${codec} stream and nothing else`, () => {
      const ts = transportStream(codec, 2);
      const program = new TsProgram();
      let keys = 0;
      let frames = 0;
      for (const packet of new TsPacketizer().packets(ts)) {
        const verdict = program.observe(packet);
        if (verdict === 'key-start' || verdict === 'key') keys++;
        if (verdict === 'key-start' || verdict === 'video-start') frames++;
      }
      const truth = videoFrames(ts).keys;
      expect(program.codec).toBe(codec);
      expect(frames).toBe(truth.length);
      expect(keys).toBe(truth.filter(Boolean).length);
      expect(keys).toBeGreaterThanOrEqual((2 * FPS) / GOP);
    });
  }

  it('takes chunks cut anywhere, and skips bytes that are not packets', () => {
    const ts = transportStream('h264', 1);
    const packetizer = new TsPacketizer();
    const whole = new TsPacketizer().packets(ts).length;
    let count = packetizer.packets(Buffer.from([1, 2, 3])).length;
    for (let i = 0; i < ts.length; i += 1000) count += packetizer.packets(ts.subarray(i, i + 1000)).length;
    expect(count).toBe(whole);
  });
});

describe('FeedOutput', () => {
  let output: FeedOutput | undefined;
  afterEach(async () => {
    await output?.stop();
    output = undefined;
  });

  /** A feed output on a free port; `readers` gets true/false as readers come and go. Returns its ports. */
  async function startOutput(readers: boolean[], maxQueuedBytes = 1024 * 1024): Promise<{ port: number; inputPort: number }> {
    const port = await freeTcpPort();
    output = new FeedOutput({
      bindHost: '127.0.0.1',
      port,
      maxReaders: 4,
      maxQueuedBytes,
      keyframeWaitMs: 3000,
      socketBufferBytes: 1024 * 1024,
      log: createLogger('feed-output-test', 'silent'),
      onFeed: () => {},
      onReader: (connected) => readers.push(connected),
    });
    return { port, inputPort: await output.start() };
  }

  for (const codec of ['h264', 'hevc'] as const) {
    it(`a reader that joins a running ${codec} stream gets the tables first and its first frame is a keyframe`, async () => {
      const readers: boolean[] = [];
      const { port, inputPort } = await startOutput(readers);
      // As srt-live-transmit writes it: the stream in 1316-byte datagrams to the output's loopback port.
      const sender = spawn(
        'ffmpeg',
        ['-v', 'error', '-re', ...sources, ...encoderArgs(codec), '-c:a', 'aac', '-f', 'mpegts', `udp://127.0.0.1:${inputPort}?pkt_size=1316`],
        { stdio: 'ignore' },
      );
      try {
        // Mid-GOP (a keyframe every 0.5 s): joins at a random point of the running stream.
        await new Promise((r) => setTimeout(r, 1500 + Math.random() * 500));
        const received: Buffer[] = [];
        const socket = connect(port, '127.0.0.1');
        socket.on('data', (chunk: Buffer) => received.push(chunk));
        await new Promise((r) => setTimeout(r, 2000));
        socket.destroy();
        const ts = Buffer.concat(received);
        expect(ts.length).toBeGreaterThan(10 * TS_PACKET_BYTES);
        expect(tsPid(ts.subarray(0, TS_PACKET_BYTES))).toBe(0);
        const frames = videoFrames(ts);
        expect(frames.keys.length).toBeGreaterThan(30);
        expect(frames.keys[0]).toBe(true);
        // Every frame decodes: nothing before the first keyframe, no reference missing.
        expect(frames.errors).toBe('');
        expect(readers[0]).toBe(true);
      } finally {
        sender.kill('SIGKILL');
      }
    });
  }

  it('cuts off a reader that does not read, and serves the next one', async () => {
    const events: boolean[] = [];
    const { port, inputPort } = await startOutput(events, 64 * 1024);
    const ts = transportStream('h264', 6);
    const stuck = connect(port, '127.0.0.1');
    stuck.pause();
    await new Promise((r) => stuck.once('connect', r));
    // A paused socket never reads the reset: ingest's side says when it let go.
    const isCut = () => events.includes(false);
    const udp = createSocket('udp4');
    // The kernel's socket buffers take a few MB first; then the queue in ingest grows past its bound.
    for (let sent = 0; !isCut() && sent < 200 * 1024 * 1024; sent += ts.length) {
      for (let i = 0; i < ts.length && !isCut(); i += 1316 * 20) {
        for (let j = i; j < Math.min(ts.length, i + 1316 * 20); j += 1316) udp.send(ts.subarray(j, j + 1316), inputPort, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    await waitFor(isCut, 'the stuck reader to be cut off', 5000);
    stuck.destroy();
    expect(events).toEqual([true, false]);
    expect(output?.readerCount).toBe(0);
    // The next reader is served.
    const next = connect(port, '127.0.0.1');
    let bytes = 0;
    next.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    await waitFor(() => events.length === 3, 'the next reader to connect', 5000);
    for (let i = 0; i < ts.length; i += 1316) udp.send(ts.subarray(i, i + 1316), inputPort, '127.0.0.1');
    await waitFor(() => bytes > 0, 'the next reader to get the feed', 5000);
    next.destroy();
    udp.close();
  });
});
