// Two streams on one host, end to end on real components (private network namespace): one ingest door
// that routes each sender by the key in its SRT stream id, and per stream its own OBS (240p, so two fit in
// 2 cores), obs-bridge and switcher. Each sender goes Live on its own OBS, showing its own picture; a
// sender killed puts only its own stream on Offline.
import { setTimeout as sleep } from 'node:timers/promises';
import { collectEvents, type StreamsStack, startSrtFeed, startStreamsStack, waitFor } from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let stack: StreamsStack;
beforeAll(async () => {
  stack = await startStreamsStack({ ids: ['alice', 'bob'], obsEnv: { OBS_RESOLUTION: '426x240' } });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

describe('two streams on one host', () => {
  it('each sender goes Live on its own OBS; a killed sender puts only its own stream on Offline', async () => {
    const [alice, bob] = stack.streams;
    if (!alice || !bob) throw new Error('two streams expected');
    // Different pictures, so each OBS can be told apart: alice a moving pattern, bob a still noisy shot.
    const feeds = [
      startSrtFeed({ port: stack.srtPort, streamId: `live_${alice.srtKey}`, latencyMs: 500, bitrateKbps: 800, width: 426, height: 240 }),
      startSrtFeed({ port: stack.srtPort, streamId: `live_${bob.srtKey}`, latencyMs: 500, bitrateKbps: 800, width: 426, height: 240, scene: 'noisy-still' }),
    ];
    try {
      const startedAt = Date.now();
      await Promise.all(
        stack.streams.map((s) =>
          waitFor(() => s.bridge.obs.programScene() === 'Live', `${s.id}: Live on its own OBS (program ${s.bridge.obs.programScene()})`, 90_000, 100),
        ),
      );
      process.stdout.write(`two streams: both Live ${Date.now() - startedAt} ms after their senders started\n`);
      // Each OBS shows its own sender: the moving pattern's screenshots differ from the still shot's.
      const shots = await Promise.all(stack.streams.map((s) => s.bridge.obs.sourceScreenshot('SRT feed', 64)));
      expect(shots[0]).not.toBe(shots[1]);
      const bobStates = collectEvents(bob.observer, 'switcher.state');
      const aliceLinks = collectEvents(alice.observer, 'ingest.link');
      const bobLinks = collectEvents(bob.observer, 'ingest.link');
      await feeds[0]?.kill9();
      const killedAt = Date.now();
      await waitFor(() => alice.bridge.obs.programScene() === 'Offline', "alice's program to go Offline", 20_000, 50);
      process.stdout.write(`alice's sender killed: alice Offline after ${Date.now() - killedAt} ms\n`);
      await sleep(3000);
      bobStates.stop();
      aliceLinks.stop();
      bobLinks.stop();
      expect(bob.bridge.obs.programScene(), "bob's program").toBe('Live');
      expect(bobStates.items.filter((s) => s.state !== 'live').map((s) => `${s.state}: ${s.reason}`)).toEqual([]);
      expect(aliceLinks.items.map((l) => l.event)).toContain('stalled');
      expect(bobLinks.items, "nothing on bob's link").toEqual([]);
    } finally {
      await Promise.all(feeds.map((f) => f.stop()));
    }
  });
});
