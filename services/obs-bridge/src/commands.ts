// The OBS commands on NATS: stream.start, stream.stop, audio.mute, scene.set, feed.restart. The first four
// are recorded as the wanted state first, so they hold while OBS is unreachable ("queued") and after any restart.
import { type Bus, CommandQueued, type Timeline } from '@irlkit/shared';
import type { ObsClient } from './obs/client.ts';
import type { WatchdogRuntime } from './watchdog/runtime.ts';

const QUEUED = 'queued: OBS is restarting';

export function serveObsCommands(
  bus: Bus,
  obs: ObsClient,
  inputs: { mic: string; feed: string },
  events: Timeline,
  watchdog: WatchdogRuntime,
): Array<() => void> {
  /** Carries the command out if OBS answers; otherwise it waits in the wanted state. */
  const now = async (what: string, run: () => Promise<void>) => {
    if (!obs.isReachable()) {
      events.info(`${what} (${QUEUED})`);
      return new CommandQueued(QUEUED);
    }
    await run();
    events.info(what);
    return undefined;
  };
  return [
    bus.serve('stream.start', () => {
      watchdog.want({ streaming: true });
      return now('Stream started', () => obs.startStream());
    }),
    bus.serve('stream.stop', () => {
      watchdog.want({ streaming: false });
      return now('Stream stopped', () => obs.stopStream());
    }),
    bus.serve('audio.mute', async ({ input, muted }) => {
      const target = input ?? inputs.mic;
      const change = { muted: { input: target, muted } };
      // OBS answering checks the input exists first, so a mistyped name is refused and never kept.
      if (obs.isReachable()) {
        await obs.setMute(target, muted);
        watchdog.want(change);
        events.info(`${target} ${muted ? 'muted' : 'unmuted'}`);
        return { input: target, muted };
      }
      watchdog.want(change);
      return now(`${target} ${muted ? 'muted' : 'unmuted'}`, () => obs.setMute(target, muted));
    }),
    bus.serve('scene.set', ({ scene }) => {
      // While OBS is away its scenes are the ones it had: a name it never had is refused at once.
      if (obs.scenes.length > 0 && !obs.scenes.includes(scene)) throw new Error(`no scene named "${scene}"`);
      watchdog.want({ scene });
      return now(`Scene set to ${scene} by hand`, () => obs.setProgramScene(scene));
    }),
    bus.serve('feed.restart', async () => {
      await obs.reopenMediaInput(inputs.feed);
      events.info(`${inputs.feed} restarted by hand`);
      return undefined;
    }),
  ];
}
