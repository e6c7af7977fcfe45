// The switcher on the real path (ffmpeg → ingest → OBS, private network namespace): failover to
// Offline, back to Live with a moving picture, hand-picked scenes left alone, settings persisted.
import { collectEvents, nextEvent, programMotion, startReconnectingFeed, startSrtFeed, startStack, type TestStack, waitFor } from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'switcher_e2e' } });
});
afterAll(async () => {
  await stack?.stop();
});

describe('switcher end to end', () => {
  it('falls back to Offline when the sender dies and comes back to Live with a moving picture', async () => {
    const { observer, srtPort } = stack;
    const first = startSrtFeed({ port: srtPort, bitrateKbps: 1500, latencyMs: 500 });
    let feed: { stop(): Promise<void> } = first;
    try {
      await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'Live on program', 30_000);
      const offline = nextEvent(observer, 'obs.state', (s) => s.programScene === 'Offline', 'Offline on program after the kill', 10_000);
      const killedAt = Date.now();
      await first.kill9();
      const fallback = await offline;
      expect(fallback.receivedAt - killedAt).toBeLessThan(3000);
      const state = await nextEvent(observer, 'switcher.state', (s) => s.state === 'offline', 'switcher offline');
      expect(state.reason).toMatch(/stalled|disconnected/);

      const live = nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'Live on program after the sender returns', 20_000);
      const restartedAt = Date.now();
      // Like a phone, the returning sender retries until the listener takes it.
      feed = startReconnectingFeed({ port: srtPort, bitrateKbps: 1500, latencyMs: 500 });
      const back = await live;
      expect(back.receivedAt - restartedAt).toBeLessThan(10_000);
      expect(await programMotion(observer)).toBeGreaterThan(1);
    } finally {
      await feed.stop();
    }
  });

  it('leaves a hand-picked Privacy scene alone through a link drop', async () => {
    const { observer, srtPort } = stack;
    // The previous sender's picture plays out of the buffers before Offline comes: start from there, or the
    // Offline that its departure owes can cross the hand-picked Privacy on its way to OBS.
    await waitFor(() => stack.bridge.obs.programScene() === 'Offline', 'Offline after the previous sender left', 10_000, 50);
    const feed = startReconnectingFeed({ port: srtPort, bitrateKbps: 1500, latencyMs: 500 });
    try {
      await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'Live on program', 30_000);
      expect(await observer.request('scene.set', { scene: 'Privacy' })).toEqual({ ok: true });
      await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Privacy', 'Privacy on program');
      const offline = nextEvent(observer, 'switcher.state', (s) => s.state === 'offline', 'switcher offline', 10_000);
      const scenes = collectEvents(observer, 'obs.state');
      await feed.current().kill9(); // the link drops; the sender reconnects by itself
      await offline;
      await nextEvent(observer, 'switcher.state', (s) => s.state === 'live', 'switcher live again', 20_000);
      await new Promise((r) => setTimeout(r, 1000));
      scenes.stop();
      expect(scenes.items.every((s) => s.programScene === 'Privacy')).toBe(true);
      // Back to one of the switcher's scenes: it takes over again.
      await observer.request('scene.set', { scene: 'Offline' });
      await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'the switcher to take over again', 10_000);
    } finally {
      await feed.stop();
    }
  });

  it('changes and persists settings, and stops switching in manual mode', async () => {
    const { observer } = stack;
    // The previous sender's picture plays out of the buffers before Offline comes: start from there.
    await waitFor(() => stack.bridge.obs.programScene() === 'Offline', 'Offline after the previous sender left', 10_000, 50);
    const reply = await observer.request('switcher.config', { lowEnterKbps: 600, lowLeaveKbps: 1200 });
    expect(reply.ok && reply.result).toMatchObject({ lowEnterKbps: 600, lowLeaveKbps: 1200 });
    // The result is the streamer's settings; the scenes are the deployment's, in switcher.state apart.
    expect(reply.ok && reply.result).not.toHaveProperty('scenes');
    const invalid = await observer.request('switcher.config', { lowEnterKbps: 2000, lowLeaveKbps: 1000 });
    expect(invalid).toEqual({ ok: false, error: 'invalid switcher settings: lowLeaveKbps: lowLeaveKbps must be at least lowEnterKbps' });
    const state = await nextEvent(observer, 'switcher.state', (s) => s.settings.lowEnterKbps === 600, 'the new settings in switcher.state');
    expect(state.settings.lowLeaveKbps).toBe(1200);
    expect(state.scenes).toEqual({ live: 'Live', low: 'Low', offline: 'Offline' });
    // Persisted in JetStream KV: a second switcher reading the bucket sees them.
    const kv = await observer.nc.jetstream().views.kv('switcher_e2e');
    const stored = await kv.get('switcher_main_config');
    expect(JSON.parse(new TextDecoder().decode(stored?.value)).lowEnterKbps).toBe(600);

    const manual = await observer.request('switcher.mode', { mode: 'manual' });
    expect(manual.ok && manual.result).toMatchObject({ mode: 'manual', scene: null });
    const feed = startReconnectingFeed({ port: stack.srtPort, bitrateKbps: 1500, latencyMs: 500 });
    try {
      await nextEvent(observer, 'ingest.link', (e) => e.event === 'connected', 'feed connected', 15_000);
      await new Promise((r) => setTimeout(r, 3000));
      expect(stack.bridge.obs.programScene()).toBe('Offline');
      await observer.request('switcher.mode', { mode: 'auto' });
      await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'Live once back in auto', 30_000);
    } finally {
      await feed.stop();
    }
  });
});
