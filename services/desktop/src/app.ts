// The desktop service: provisions OBS from configuration, runs Xvfb + OBS, and reports on NATS.
import { type Bus, type Logger, publishChildEvent, startHeartbeat, timeline } from '@irlkit/shared';
import type { DesktopConfig } from './config.ts';
import type { ObsProvision } from './provision/obs-files.ts';
import { provisionObs } from './provision/write.ts';
import { ObsRuntime } from './runtime/obs-runtime.ts';

const SERVICE = 'desktop';

export function provisionFromConfig(config: DesktopConfig): ObsProvision {
  return {
    websocket: { port: config.OBS_WS_PORT, password: config.OBS_WS_PASSWORD },
    video: { width: config.OBS_RESOLUTION.width, height: config.OBS_RESOLUTION.height, fps: config.OBS_FPS },
    encoder: { videoKbps: config.OBS_VIDEO_BITRATE_KBPS, audioKbps: config.OBS_AUDIO_BITRATE_KBPS, preset: config.OBS_X264_PRESET },
    stream: { server: config.OBS_RTMP_URL, key: config.OBS_RTMP_KEY },
    feedUrl: config.OBS_FEED_URL,
    feedInput: config.OBS_FEED_INPUT,
    offlineMedia: config.OBS_OFFLINE_MEDIA,
    lowBanner: config.OBS_LOW_BANNER,
    scenes: {
      live: config.OBS_SCENE_LIVE,
      low: config.OBS_SCENE_LOW,
      offline: config.OBS_SCENE_OFFLINE,
      starting: config.OBS_SCENE_STARTING,
      privacy: config.OBS_SCENE_PRIVACY,
    },
  };
}

export function buildApp({ config, bus, log }: { config: DesktopConfig; bus: Bus; log: Logger }) {
  const events = timeline(bus, SERVICE);
  const runtime = new ObsRuntime({
    display: config.DESKTOP_DISPLAY,
    screen: { width: Math.max(1280, config.OBS_RESOLUTION.width + 400), height: Math.max(800, config.OBS_RESOLUTION.height + 300) },
    configDir: config.OBS_CONFIG_DIR,
    obsBinary: config.OBS_BINARY,
    xvfbBinary: config.XVFB_BINARY,
    log,
    onChildEvent: (event) => {
      publishChildEvent(bus, SERVICE, event);
      if (event.event === 'exited') events.error(`${event.child} exited (${event.signal ?? `code ${event.exitCode}`}); restarting in ${event.restartInMs} ms`);
    },
    onAudioWarning: (warning) => {
      publishChildEvent(bus, SERVICE, {
        child: 'obs',
        event: 'warning',
        pid: runtime.obs.pid ?? null,
        exitCode: null,
        signal: null,
        restartInMs: null,
        detail: warning.message,
      });
      events.warn(warning.message);
    },
  });
  let stopHeartbeat: (() => void) | undefined;
  let stopServing: (() => void) | undefined;
  return {
    runtime,
    async start() {
      const paths = provisionObs(config.OBS_CONFIG_DIR, provisionFromConfig(config));
      log.info({ config: paths.root, display: config.DESKTOP_DISPLAY }, 'OBS provisioned');
      await runtime.start();
      // Natively the desktop owns OBS's process, so it answers obs.restart; in compose the
      // bridge's watchdog restarts the container instead.
      stopServing = bus.serve('obs.restart', () => {
        events.warn('OBS restart requested');
        runtime.restartObs();
        return undefined;
      });
      stopHeartbeat = startHeartbeat(bus, SERVICE, () => ({
        ok: runtime.obs.running && runtime.xvfb.running,
        detail: {
          obs: runtime.obs.running ? 'running' : 'down',
          xvfb: runtime.xvfb.running ? 'running' : 'down',
          obsRestarts: runtime.obs.restarts,
          display: config.DESKTOP_DISPLAY,
        },
      }));
    },
    async stop() {
      stopHeartbeat?.();
      stopServing?.();
      await runtime.stop();
    },
  };
}
export type DesktopApp = ReturnType<typeof buildApp>;
