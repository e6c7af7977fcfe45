// The OBS commands on NATS: stream.start, stream.stop, audio.mute, scene.set, feed.restart.
import type { Bus, Timeline } from '@irlkit/shared';
import type { ObsClient } from './obs/client.ts';

export function serveObsCommands(bus: Bus, obs: ObsClient, inputs: { mic: string; feed: string }, events: Timeline): Array<() => void> {
  return [
    bus.serve('stream.start', async () => {
      await obs.startStream();
      events.info('Stream started');
      return undefined;
    }),
    bus.serve('stream.stop', async () => {
      await obs.stopStream();
      events.info('Stream stopped');
      return undefined;
    }),
    bus.serve('audio.mute', async ({ input, muted }) => {
      const target = input ?? inputs.mic;
      await obs.setMute(target, muted);
      events.info(`${target} ${muted ? 'muted' : 'unmuted'}`);
      return { input: target, muted };
    }),
    bus.serve('scene.set', async ({ scene }) => {
      await obs.setProgramScene(scene);
      events.info(`Scene set to ${scene} by hand`);
      return undefined;
    }),
    bus.serve('feed.restart', async () => {
      await obs.restartMediaInput(inputs.feed);
      events.info(`${inputs.feed} restarted by hand`);
      return undefined;
    }),
  ];
}
