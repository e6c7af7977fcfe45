// Two streams on one host, each with its own OBS and switcher, fed through the one shared SRT door by
// their own ffmpeg senders (each naming its stream's key): each goes Live on its own OBS, and a kill -9
// of one sender puts only that stream on Offline while the other stays Live. 426x240 so two OBS fit in 2 cores.
import { armEvent, nextEvent, type StreamsStack, startSrtFeed, startStreamsStack } from '@irlkit/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';

let stack: StreamsStack;
const feeds: Array<ReturnType<typeof startSrtFeed>> = [];

beforeAll(async () => {
  stack = await startStreamsStack({ ids: ['alice', 'bob'], obsEnv: { OBS_RESOLUTION: '426x240', OBS_FPS: '15', OBS_VIDEO_BITRATE_KBPS: '400' } });
}, 180_000);
afterAll(async () => {
  await Promise.all(feeds.map((feed) => feed.stop()));
  await stack?.stop();
});

it('puts each sender on its own OBS; killing one sender takes only its stream Offline', async () => {
  const [alice, bob] = stack.streams as [StreamsStack['streams'][0], StreamsStack['streams'][0]];
  for (const stream of [alice, bob]) {
    feeds.push(startSrtFeed({ port: stack.srtPort, bitrateKbps: 600, latencyMs: 500, width: 426, height: 240, fps: 15, streamId: `live_${stream.srtKey}` }));
  }
  await Promise.all(
    [alice, bob].map((stream) => nextEvent(stream.observer, 'obs.state', (s) => s.programScene === 'Live', `${stream.id}'s OBS on Live`, 60_000)),
  );
  // Each switcher acted on its own feed: its stream's ingest names that stream's key.
  for (const stream of [alice, bob]) {
    const stats = await nextEvent(stream.observer, 'ingest.stats', (s) => s.connected, `${stream.id}'s feed stats`, 10_000);
    expect(stats.streamId).toBe(`live_${stream.srtKey}`);
  }

  const aliceOffline = await armEvent(
    alice.observer,
    'obs.state',
    (s) => s.programScene === 'Offline',
    "alice's OBS on Offline after her sender's kill -9",
    30_000,
  );
  const bobLeft = await armEvent(bob.observer, 'switcher.state', (s) => s.state !== 'live', "bob's switcher leaving Live", 15_000);
  await feeds[0]?.kill9();
  await aliceOffline.next;
  // Bob's stream saw nothing of it: no switch for the next seconds, and his OBS still on Live.
  await expect(bobLeft.next).rejects.toThrow(/timed out/);
  const bobNow = await nextEvent(bob.observer, 'obs.state', () => true, "bob's OBS state", 10_000);
  expect(bobNow.programScene).toBe('Live');
  const bobSwitcher = await nextEvent(bob.observer, 'switcher.state', () => true, "bob's switcher", 10_000);
  expect(bobSwitcher.state).toBe('live');
}, 240_000);
