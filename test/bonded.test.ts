// Bonded all the way to the screen: ffmpeg → SRTLA sender (2 links on 127.0.0.x) → irlkit's receiver →
// srt-live-transmit → a real OBS. Losing one SIM keeps the stream Live; losing both falls back to
// Offline at once, and the streamer's return brings Live back.
import { collectEvents, freeUdpPort, nextEvent, startSrtFeed, startSrtlaSender, startStack, type TestStack } from '@irlkit/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';

let stack: TestStack;
let srtlaPort: number;

beforeAll(async () => {
  srtlaPort = await freeUdpPort();
  stack = await startStack({
    bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'bonded' },
    ingestEnv: { SRTLA_PORT: String(srtlaPort), SRTLA_BIND: '127.0.0.1', SRT_LATENCY_MS: '1500' },
  });
});
afterAll(async () => {
  await stack?.stop();
});

it('stays Live on OBS when one of two bonded links drops, and falls back only when both do', async () => {
  const { observer } = stack;
  const sender = await startSrtlaSender({ host: '127.0.0.1', port: srtlaPort }, 2);
  const feed = startSrtFeed({ port: sender.port, bitrateKbps: 1500, latencyMs: 1500, width: 854, height: 480 });
  try {
    await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'Live on program over the bonded links', 40_000);
    const table = await nextEvent(
      observer,
      'ingest.srtla',
      (t) => t.links.length === 2 && t.links.every((l) => l.bitrateKbps > 100),
      'both links carrying',
      10_000,
    );
    expect(table.groups).toBe(1);

    const states = collectEvents(observer, 'switcher.state');
    try {
      sender.cut(0);
      const cutAt = Date.now();
      // The cut took: link 0 carries nothing (or has left the table) while link 1 carries the stream.
      const cutLink = `${sender.links[0]?.address}:${sender.links[0]?.port}`;
      await nextEvent(
        observer,
        'ingest.srtla',
        (t) => (t.links.find((l) => l.address === cutLink)?.bitrateKbps ?? 0) === 0 && t.links.some((l) => l.address !== cutLink && l.bitrateKbps > 500),
        'link 0 silent and link 1 carrying the stream',
        8000,
      );
      await new Promise((r) => setTimeout(r, Math.max(0, cutAt + 8000 - Date.now())));
      expect(stack.bridge.obs.programScene()).toBe('Live');
      expect(states.items.length).toBeGreaterThan(0); // the switcher's heartbeat, at least
      expect(states.items.map((s) => s.state).filter((s) => s !== 'live')).toEqual([]);
    } finally {
      states.stop();
    }

    const offline = nextEvent(observer, 'obs.state', (s) => s.programScene === 'Offline', 'Offline once both links are gone', 5000);
    sender.cut(1);
    await offline;
    const live = nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'Live again when the links return', 30_000);
    sender.restore(0);
    sender.restore(1);
    await live;
  } finally {
    await feed.stop();
    await sender.stop();
  }
});
