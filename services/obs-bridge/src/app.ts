// obs-bridge: the obs-websocket connection, OBS mirrored onto NATS, commands, the switcher, the HTTP API.
import { type Bus, type Logger, publishChildEvent, startHeartbeat, timeline } from '@irlkit/shared';
import { serveObsCommands } from './commands.ts';
import type { BridgeConfig } from './config.ts';
import { buildHttp } from './http/server.ts';
import { ObsClient } from './obs/client.ts';
import { ObsMirror } from './obs/state.ts';
import { DEFAULT_SWITCHER_CONFIG } from './switcher/defaults.ts';
import { Switcher } from './switcher/runtime.ts';
import { ObsContainer } from './watchdog/docker.ts';
import { ObsWatchdog } from './watchdog/runtime.ts';

const SERVICE = 'obs-bridge';

export function buildApp({ config, bus, log }: { config: BridgeConfig; bus: Bus; log: Logger }) {
  const events = timeline(bus, SERVICE);
  const obs = new ObsClient({ url: config.OBS_WS_URL, password: config.OBS_WS_PASSWORD, micInput: config.OBS_MIC_INPUT, log });
  const mirror = new ObsMirror({
    bus,
    obs,
    log,
    screenshot: { width: config.OBS_SCREENSHOT_WIDTH, intervalMs: config.OBS_SCREENSHOT_INTERVAL_MS, quality: config.OBS_SCREENSHOT_QUALITY },
  });
  const switcher = new Switcher({
    bus,
    obs,
    log: log.child({ part: 'switcher' }),
    bucket: config.BRIDGE_SETTINGS_BUCKET,
    pictureCheckMs: config.SWITCHER_PICTURE_CHECK_MS,
    pictureFrozenMs: config.SWITCHER_PICTURE_FROZEN_MS,
    pictureRestartWaitMs: config.SWITCHER_PICTURE_RESTART_WAIT_MS,
    defaults: {
      ...DEFAULT_SWITCHER_CONFIG,
      mediaInput: config.OBS_FEED_INPUT,
      scenes: { live: config.OBS_SCENE_LIVE, low: config.OBS_SCENE_LOW, offline: config.OBS_SCENE_OFFLINE },
    },
  });
  const switcherScenes = [config.OBS_SCENE_LIVE, config.OBS_SCENE_LOW, config.OBS_SCENE_OFFLINE];
  const watchdog =
    config.OBS_WATCHDOG_MODE === 'off'
      ? undefined
      : new ObsWatchdog({
          bus,
          obs,
          log: log.child({ part: 'watchdog' }),
          events: timeline(bus, 'watchdog'),
          settings: { timeoutMs: config.OBS_WATCHDOG_TIMEOUT_MS },
          switcher: { wantedScene: () => switcher.state().scene, scenes: () => switcherScenes },
          restarter:
            config.OBS_WATCHDOG_MODE === 'docker'
              ? {
                  mode: 'docker',
                  container: new ObsContainer({
                    container: config.OBS_CONTAINER,
                    log: log.child({ part: 'docker' }),
                    onEvent: (event) => publishChildEvent(bus, SERVICE, event, 'container'),
                  }),
                }
              : { mode: 'native' },
        });
  obs.on('reachable', (reachable) => {
    if (reachable) events.info('OBS connected');
    else events.error(`OBS unreachable: ${obs.lastError ?? 'connection lost'}`);
  });
  let http: Awaited<ReturnType<typeof buildHttp>> | undefined;
  let cleanups: Array<() => void> = [];
  return {
    obs,
    mirror,
    switcher,
    watchdog,
    get http() {
      return http;
    },
    async start() {
      obs.start();
      mirror.start();
      await switcher.start();
      watchdog?.start();
      cleanups = serveObsCommands(bus, obs, { mic: config.OBS_MIC_INPUT, feed: config.OBS_FEED_INPUT }, events);
      cleanups.push(
        startHeartbeat(bus, SERVICE, () => ({
          ok: obs.isReachable(),
          detail: {
            obs: obs.isReachable() ? 'connected' : (obs.lastError ?? 'down'),
            switcher: switcher.state().state,
            rejectedMessages: bus.rejections.total,
          },
        })),
      );
      http = await buildHttp({ bus, obs, mirror, switcher, apiToken: config.BRIDGE_API_TOKEN });
      await http.listen({ host: config.BRIDGE_HOST, port: config.BRIDGE_PORT });
      log.info({ api: `http://${config.BRIDGE_HOST}:${config.BRIDGE_PORT}`, obs: config.OBS_WS_URL }, 'obs-bridge ready');
    },
    async stop() {
      for (const c of cleanups.splice(0)) c();
      await http?.close();
      watchdog?.stop();
      await switcher.stop();
      mirror.stop();
      await obs.stop();
    },
  };
}
export type BridgeApp = ReturnType<typeof buildApp>;
