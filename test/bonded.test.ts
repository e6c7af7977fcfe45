// Bonded all the way to the screen: ffmpeg → SRTLA sender (2 links on 127.0.0.x) → irlkit's receiver →
// srt-live-transmit → a real OBS. Losing one SIM keeps the stream Live; losing both falls back to
// Offline at once, and the streamer's return brings Live back.
import { switcherReasons } from '@irlkit/shared';
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
    const processes = collectEvents(observer, 'process');
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
      const departures = states.items.filter((s) => s.state !== 'live');
      // OBS 29 itself crashes now and then (SIGSEGV, about once in a whole suite's run, nothing of ours in its
      // stack); the desktop restarts it and the switcher rightly waits on Offline for its input to move again.
      // That is not this case's subject: said so, and only that Offline is let pass.
      const crashes = processes.items.filter((e) => e.child === 'obs' && e.event === 'exited' && e.signal !== null);
      if (crashes.length > 0) {
        console.log(
          `bonded: OBS crashed while one link was down (${crashes.map((e) => e.signal).join(', ')}); switcher meanwhile: ${departures.map((s) => `${s.state}: ${s.reason}`).join('; ')}`,
        );
      }
      const allowed = crashes.length > 0 ? [switcherReasons.obsRestarted] : [];
      expect(departures.filter((s) => !allowed.includes(s.reason)).map((s) => `${s.state}: ${s.reason}`)).toEqual([]);
    } finally {
      states.stop();
      processes.stop();
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
