// The desktop service's configuration: OBS's profile, scenes and websocket, the X display. Environment
// variables in, nested settings out (env names stay here).
import { fileURLToPath } from 'node:url';
import { commonEnv, commonSettings, DEV_SECRETS, defineConfig, env } from '@irlkit/shared';
import { z } from 'zod';
import type { ObsProvision } from './provision/obs-files.ts';

const resolution = z
  .string()
  .regex(/^\d{3,4}x\d{3,4}$/, 'must look like 854x480')
  .transform((v) => {
    const [w, h] = v.split('x').map(Number) as [number, number];
    return { width: w, height: h };
  });

export const desktopEnv = {
  ...commonEnv,
  OBS_WS_PORT: env.port(4455),
  OBS_WS_PASSWORD: env.secret(DEV_SECRETS.obsWebsocket),
  /** Canvas and output size. 854x480 keeps OBS at full frame rate on 2 cores. */
  OBS_RESOLUTION: resolution.prefault('854x480'),
  OBS_FPS: env.int(30, 10, 60),
  OBS_VIDEO_BITRATE_KBPS: env.int(2500, 200, 50_000),
  OBS_AUDIO_BITRATE_KBPS: env.int(160, 64, 320),
  OBS_X264_PRESET: env.enumOf(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium'] as const, 'veryfast'),
  OBS_RTMP_URL: z
    .string()
    .regex(/^rtmps?:\/\/\S+$/, 'must start with rtmp:// or rtmps://')
    .default('rtmp://127.0.0.1/live'),
  /** Empty: OBS runs and switches scenes, but the platform refuses the stream until a key is set. */
  OBS_RTMP_KEY: env.optionalSecret(),
  /** Where OBS's media source reads the feed: ingest's output, an MPEG-TS stream over TCP that starts at a keyframe. */
  OBS_FEED_URL: z
    .string()
    .regex(/^(tcp|srt|udp|rtmp|rtsp|https?):\/\/\S+$/, 'must be a tcp:// (or other stream) URL')
    .default('tcp://127.0.0.1:9001'),
  OBS_OFFLINE_MEDIA: env.string(fileURLToPath(new URL('../assets/offline.png', import.meta.url))),
  OBS_LOW_BANNER: env.string('LOW BITRATE'),
  OBS_SCENE_LIVE: env.string('Live'),
  OBS_SCENE_LOW: env.string('Low'),
  OBS_SCENE_OFFLINE: env.string('Offline'),
  OBS_SCENE_STARTING: env.string('Starting'),
  OBS_SCENE_PRIVACY: env.string('Privacy'),
  OBS_FEED_INPUT: env.string('SRT feed'),
  /**
   * Delays the feed's audio in OBS (its sync offset, ms), for a sender whose own sound is early or late. OBS 29's
   * media source keeps a different A/V offset each time it opens; obs-bridge's audio anchor (obs/audio-anchor.ts)
   * places the audio afresh on the picture after each open, which leaves about -2 ms: 0 needs no correction.
   */
  OBS_FEED_AUDIO_DELAY_MS: env.int(0, -950, 20_000),
  /** X display OBS runs on (shared with the xpra desktop). */
  DESKTOP_DISPLAY: z
    .string()
    .regex(/^:\d+$/, 'must look like :99')
    .default(':99'),
  /** Where OBS's configuration lives ($XDG_CONFIG_HOME). */
  OBS_CONFIG_DIR: env.string('.state/obs-config'),
  OBS_BINARY: env.string('obs'),
  XVFB_BINARY: env.string('Xvfb'),
};

export const desktopConfig = defineConfig(desktopEnv, (v) => ({
  common: commonSettings(v),
  /** What configuration owns in OBS's profile and scene collection, written on every start. */
  provision: {
    websocket: { port: v.OBS_WS_PORT, password: v.OBS_WS_PASSWORD },
    video: { width: v.OBS_RESOLUTION.width, height: v.OBS_RESOLUTION.height, fps: v.OBS_FPS },
    encoder: { videoKbps: v.OBS_VIDEO_BITRATE_KBPS, audioKbps: v.OBS_AUDIO_BITRATE_KBPS, preset: v.OBS_X264_PRESET },
    stream: { server: v.OBS_RTMP_URL, key: v.OBS_RTMP_KEY },
    feedUrl: v.OBS_FEED_URL,
    feedInput: v.OBS_FEED_INPUT,
    feedAudioDelayMs: v.OBS_FEED_AUDIO_DELAY_MS,
    offlineMedia: v.OBS_OFFLINE_MEDIA,
    lowBanner: v.OBS_LOW_BANNER,
    scenes: { live: v.OBS_SCENE_LIVE, low: v.OBS_SCENE_LOW, offline: v.OBS_SCENE_OFFLINE, starting: v.OBS_SCENE_STARTING, privacy: v.OBS_SCENE_PRIVACY },
  } satisfies ObsProvision,
  /** The X display OBS runs on (xpra shares it). */
  display: v.DESKTOP_DISPLAY,
  /** OBS's $XDG_CONFIG_HOME. */
  configDir: v.OBS_CONFIG_DIR,
  binaries: { obs: v.OBS_BINARY, xvfb: v.XVFB_BINARY },
}));

export type DesktopConfig = ReturnType<typeof desktopConfig.load>;
