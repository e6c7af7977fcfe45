// The obs-bridge service's configuration: environment variables in, nested settings out (env names stay here).
import { commonEnv, commonSettings, DEV_SECRETS, defineConfig, env, SETTINGS_BUCKET } from '@irlkit/shared';
import { z } from 'zod';

export const bridgeEnv = {
  ...commonEnv,
  OBS_WS_URL: z
    .string()
    .regex(/^wss?:\/\/\S+$/, 'must look like ws://host:4455')
    .default('ws://127.0.0.1:4455'),
  OBS_WS_PASSWORD: env.secret(DEV_SECRETS.obsWebsocket),
  /** The input audio.mute targets when none is named: the streamer's own audio is in the feed. */
  OBS_MIC_INPUT: env.string('SRT feed'),
  OBS_FEED_INPUT: env.string('SRT feed'),
  OBS_SCENE_LIVE: env.string('Live'),
  OBS_SCENE_LOW: env.string('Low'),
  OBS_SCENE_OFFLINE: env.string('Offline'),
  OBS_SCREENSHOT_WIDTH: env.int(640, 64, 1920),
  OBS_SCREENSHOT_INTERVAL_MS: env.int(1000, 200, 60_000),
  OBS_SCREENSHOT_QUALITY: env.int(70, 10, 100),
  /** Frozen-picture watch while Live/Low: screenshot period, still-picture time before restarting the feed input, wait after it before OFFLINE. */
  SWITCHER_PICTURE_CHECK_MS: env.int(1000, 200, 10_000),
  SWITCHER_PICTURE_FROZEN_MS: env.int(2000, 500, 60_000),
  SWITCHER_PICTURE_RESTART_WAIT_MS: env.int(2000, 500, 60_000),
  BRIDGE_HOST: env.string('127.0.0.1'),
  BRIDGE_PORT: env.port(8090),
  BRIDGE_API_TOKEN: env.secret(DEV_SECRETS.bridgeApi),
  /** JetStream key-value bucket for settings that survive restarts. */
  BRIDGE_SETTINGS_BUCKET: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
    .default(SETTINGS_BUCKET),
  /** How the watchdog restarts an unreachable OBS: OBS's container (compose), the obs.restart command (native), or not at all. */
  OBS_WATCHDOG_MODE: env.enumOf(['docker', 'native', 'off'] as const, 'native'),
  /** obs-websocket unreachable this long → restart OBS. */
  OBS_WATCHDOG_TIMEOUT_MS: env.int(10_000, 1000, 600_000),
  /**
   * After the whole stack restarts (an upgrade, a reboot) while streaming, start the stream again.
   * Off: OBS comes back idle and the streamer presses Start.
   */
  OBS_RESUME_AFTER_RESTART: env.bool(true),
  /** OBS's compose service (in the bridge's own compose project) or container name, for OBS_WATCHDOG_MODE=docker. */
  OBS_CONTAINER: env.string('desktop'),
};

export const bridgeConfig = defineConfig(bridgeEnv, (v) => ({
  common: commonSettings(v),
  obs: { websocketUrl: v.OBS_WS_URL, password: v.OBS_WS_PASSWORD },
  /** OBS inputs the bridge acts on: the mic audio.mute targets by default, the feed the switcher restarts. */
  inputs: { mic: v.OBS_MIC_INPUT, feed: v.OBS_FEED_INPUT },
  /** The deployment's switcher scenes (the streamer's switcher settings live in the settings bucket). */
  scenes: { live: v.OBS_SCENE_LIVE, low: v.OBS_SCENE_LOW, offline: v.OBS_SCENE_OFFLINE },
  screenshot: { width: v.OBS_SCREENSHOT_WIDTH, intervalMs: v.OBS_SCREENSHOT_INTERVAL_MS, quality: v.OBS_SCREENSHOT_QUALITY },
  api: { host: v.BRIDGE_HOST, port: v.BRIDGE_PORT, token: v.BRIDGE_API_TOKEN },
  settingsBucket: v.BRIDGE_SETTINGS_BUCKET,
  watchdog: { mode: v.OBS_WATCHDOG_MODE, timeoutMs: v.OBS_WATCHDOG_TIMEOUT_MS, container: v.OBS_CONTAINER, resumeAfterRestart: v.OBS_RESUME_AFTER_RESTART },
  /** The frozen-picture watch while Live/Low. */
  pictureWatch: { checkMs: v.SWITCHER_PICTURE_CHECK_MS, frozenMs: v.SWITCHER_PICTURE_FROZEN_MS, restartWaitMs: v.SWITCHER_PICTURE_RESTART_WAIT_MS },
}));

export type BridgeConfig = ReturnType<typeof bridgeConfig.load>;
