// The desktop service: provisions OBS from configuration, runs Xvfb + OBS, and reports on NATS.
import { type Bus, type Logger, publishChildEvent, startHeartbeat, timeline } from '@irlkit/shared';
import type { DesktopConfig } from './config.ts';
import { ObsRuntime } from './obs/runtime.ts';
import { provisionObs } from './provision/write.ts';

const SERVICE = 'desktop';

export function buildApp({ config, bus, log }: { config: DesktopConfig; bus: Bus; log: Logger }) {
  const events = timeline(bus, SERVICE);
  const runtime = new ObsRuntime({
    display: config.display,
    screen: { width: Math.max(1280, config.provision.video.width + 400), height: Math.max(800, config.provision.video.height + 300) },
    configDir: config.configDir,
    obsBinary: config.binaries.obs,
    xvfbBinary: config.binaries.xvfb,
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
      const paths = provisionObs(config.configDir, config.provision);
      log.info({ config: paths.root, display: config.display }, 'OBS provisioned');
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
          display: config.display,
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
