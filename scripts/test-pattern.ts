// The ffmpeg command line of a test pattern sent over SRT: a moving picture with a burnt-in clock and a
// tone. The native runner's demo feed (--demo) and the tests' feeds (test/kit/ffmpeg.ts) both use it.

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
   * frames while the encoder keeps sending (a sender whose camera hung); or the moving pattern under a white
   * strobe that holds for 700 ms of every second (a picture that moves, but is the same most of the time).
   */
  scene?: 'moving' | 'noisy-still' | 'freezes' | 'strobe';
  freezeAfterFrames?: number;
}

/** The caller's URL. The passphrase travels as ffmpeg's -passphrase option (see testPatternArgs), not in here. */
export function srtUrl(options: SrtFeedOptions): string {
  const params = new URLSearchParams({ mode: 'caller', latency: String((options.latencyMs ?? 200) * 1000), pkt_size: '1316' });
  // The stream id goes in as phones write it: Debian's ffmpeg (5.1) does not URL-decode it, so
  // `publish%2Flive%2Fx` would reach the server as such. Only '&' cannot be carried this way.
  const streamId = options.streamId ? `&streamid=${options.streamId}` : '';
  return `srt://${options.host ?? '127.0.0.1'}:${options.port}?${params}${streamId}`;
}

/**
 * The encoder half of every test feed (this pattern, the flash feed, the RTMP feed standing in for OBS):
 * H.264 as a phone or OBS sends it live (ultrafast, zero latency, 4:2:0, a keyframe every `keyframeEvery`
 * frames) and AAC at 48 kHz. `constantBitrate` pads to exactly `kbps` (filler, no early keyframes), as a
 * hardware encoder does; otherwise `kbps` is a cap.
 */
export function encoderArgs(options: { kbps: number; keyframeEvery: number; constantBitrate?: boolean }): string[] {
  const { kbps, keyframeEvery } = options;
  const constant = options.constantBitrate ? ['-minrate', `${kbps}k`, '-x264-params', 'nal-hrd=cbr:filler=1', '-keyint_min', String(keyframeEvery)] : [];
  return [
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
    '-maxrate',
    `${kbps}k`,
    '-bufsize',
    `${Math.round(kbps / 2)}k`,
    ...constant,
    '-g',
    String(keyframeEvery),
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-ar',
    '48000',
  ];
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
        }${options.scene === 'strobe' ? `,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(mod(t,1),0.7)'` : ''}`,
    ...encoderArgs({ kbps, keyframeEvery: fps, constantBitrate: true }),
    '-f',
    'mpegts',
    '-mpegts_flags',
    '+resend_headers',
    // As an option, the passphrase reaches SRT intact; in the URL, ffmpeg turns '+' into a space and cannot carry '&'.
    ...(options.passphrase ? ['-passphrase', options.passphrase] : []),
    srtUrl(options),
  ];
}
