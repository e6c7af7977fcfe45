// obs-bridge: the obs-websocket connection, OBS mirrored onto NATS, commands, the switcher, the HTTP API.
import { type Bus, type Logger, publishChildEvent, SettingsBucket, startHeartbeat, timeline, wantedObsState } from '@irlkit/shared';
import { serveObsCommands } from './commands.ts';
import type { BridgeConfig } from './config.ts';
import { buildHttp } from './http/server.ts';
import { FeedAudioAnchor } from './obs/audio-anchor.ts';
import { ObsClient } from './obs/client.ts';
import { ObsMirror } from './obs/mirror.ts';
import { SwitcherRuntime } from './switcher/runtime.ts';
import { ObsContainer } from './watchdog/docker.ts';
import { WatchdogRuntime } from './watchdog/runtime.ts';

const SERVICE = 'obs-bridge';

export function buildApp({ config, bus, log }: { config: BridgeConfig; bus: Bus; log: Logger }) {
  const events = timeline(bus, SERVICE);
  // JetStream is optional at start: settings live in memory until its bucket answers, then persist.
  const settings = new SettingsBucket(bus.nc, config.settingsBucket, log.child({ part: 'settings' }), {
    replicas: config.common.nats.jetstreamReplicas,
    onAvailability: (available, reason) => {
      if (available) events.info('Settings persisted again (JetStream is back)');
      else events.warn(`Settings are not persisted: JetStream unavailable (${reason}); changes apply now and are saved once it is back`);
    },
  });
  const obs = new ObsClient({ url: config.obs.websocketUrl, password: config.obs.password, micInput: config.inputs.mic, log });
  const mirror = new ObsMirror({
    bus,
    obs,
    log,
    screenshot: config.screenshot,
  });
  const switcher = new SwitcherRuntime({
    bus,
    obs,
    log: log.child({ part: 'switcher' }),
    bucket: settings,
    scenes: config.scenes,
    mediaInput: config.inputs.feed,
    pictureCheckMs: config.pictureWatch.checkMs,
    pictureFrozenMs: config.pictureWatch.frozenMs,
    pictureRestartWaitMs: config.pictureWatch.restartWaitMs,
  });
  const switcherScenes = [config.scenes.live, config.scenes.low, config.scenes.offline];
  // Each new player of the feed input keeps an A/V offset of its own unless its audio is placed afresh on its picture.
  const audioAnchor = new FeedAudioAnchor({
    obs,
    bus,
    input: config.inputs.feed,
    feedScenes: () => [config.scenes.live, config.scenes.low],
    log: log.child({ part: 'audio-anchor' }),
  });
  // The watchdog keeps the wanted state and puts it back even when it is not to restart OBS (mode off).
  const watchdog = new WatchdogRuntime({
    bus,
    obs,
    log: log.child({ part: 'watchdog' }),
    events: timeline(bus, 'watchdog'),
    store: settings.setting(`wanted_${bus.streamId}`, wantedObsState),
    settings: { timeoutMs: config.watchdog.timeoutMs, resumeAfterRestart: config.watchdog.resumeAfterRestart },
    switcher: { wantedScene: () => switcher.state().scene, scenes: () => switcherScenes },
    restarter:
      config.watchdog.mode === 'docker'
        ? {
            mode: 'docker',
            container: new ObsContainer({
              container: config.watchdog.container,
              log: log.child({ part: 'docker' }),
              onEvent: (event) => publishChildEvent(bus, SERVICE, event, 'container'),
            }),
          }
        : { mode: config.watchdog.mode },
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
    audioAnchor,
    get http() {
      return http;
    },
    async start() {
      await settings.open();
      // The stored wanted state is read before OBS can first answer, so that answer is compared with it.
      await watchdog.load();
      obs.start();
      mirror.start();
      await switcher.start();
      audioAnchor.start();
      watchdog.start();
      cleanups = serveObsCommands(bus, obs, config.inputs, events, watchdog);
      cleanups.push(
        startHeartbeat(bus, SERVICE, () => ({
          ok: obs.isReachable(),
          detail: {
            obs: obs.isReachable() ? 'connected' : (obs.lastError ?? 'down'),
            obsLastAnswerAgeMs: obs.lastAnswerAgeMs(),
            settingsPersisted: settings.available,
            switcher: switcher.state().state,
            feedAudioAnchors: audioAnchor.anchored,
            rejectedMessages: bus.rejections.total,
          },
        })),
      );
      http = await buildHttp({ bus, obs, mirror, switcher, settings, apiToken: config.api.token });
      await http.listen({ host: config.api.host, port: config.api.port });
      log.info({ api: `http://${config.api.host}:${config.api.port}`, obs: config.obs.websocketUrl }, 'obs-bridge ready');
    },
    async stop() {
      for (const c of cleanups.splice(0)) c();
      await http?.close();
      watchdog.stop();
      audioAnchor.stop();
      await switcher.stop();
      mirror.stop();
      await obs.stop();
      settings.close();
    },
  };
}
export type BridgeApp = ReturnType<typeof buildApp>;
