// The switcher waiting for the feed's picture when OBS's player has nothing to show at all: its connection
// to ingest was swallowed, so the input never draws a frame. Real OBS under Xvfb, real ingest, a TCP link
// between them that holds new connections on purpose. OBS cannot screenshot an input that has drawn no
// frame; the switcher's frame watch took that failure for "try again later" and never restarted the input,
// so this case stayed Offline for good (seen: 40 s, no restart) until a failed screenshot counted as no picture.
import { collectEvents, nextEvent, startReconnectingFeed, startStack, type TestStack, waitFor } from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const FEED_INPUT = 'SRT feed';
let stack: TestStack;

/** The timeline entries collected so far, one line each, for a failure message or a closing log line. */
const timelineOf = (items: Array<{ ts: number; source: string; message: string }>) => () =>
  items.map((e) => `${new Date(e.ts).toISOString().slice(11, 23)} ${e.source}: ${e.message}`).join(' | ');
beforeAll(async () => {
  stack = await startStack({ obsLink: true, bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'frame_watch' } });
});
afterAll(async () => {
  await stack?.stop();
});

describe('waiting for the feed picture', () => {
  it('a player whose connection was swallowed (no frame ever drawn) is restarted, then reopened: the feed goes Live', async () => {
    const { observer, srtPort, obsLink } = stack;
    const link = obsLink as NonNullable<TestStack['obsLink']>;
    await waitFor(() => stack.bridge.obs.isReachable(), 'OBS to answer', 30_000);
    const log = collectEvents(observer, 'log');
    const timeline = timelineOf(log.items);
    // Every connection OBS's player opens from now on is swallowed: it waits for a stream that never comes.
    link.holdNew(true);
    await stack.bridge.obs.reopenMediaInput(FEED_INPUT);
    const feed = startReconnectingFeed({ port: srtPort, bitrateKbps: 1500, latencyMs: 500 });
    const connectedAt = Date.now();
    // The switcher opens the input afresh when the feed connects: that connection is swallowed too.
    await waitFor(() => log.items.some((e) => /Feed connected/.test(e.message)), 'the sender to connect', 15_000);
    const heldAtConnect = link.held;
    await new Promise((r) => setTimeout(r, 1500));
    const shot = await stack.bridge.obs.sourceScreenshot(FEED_INPUT, 96).then(
      (s) => `a ${s.length}-character image`,
      (error: Error) => `failed: ${error.message}`,
    );
    console.log(`held connections ${heldAtConnect} at connect, ${link.held} now; a screenshot of the feed input: ${shot}`);
    // From now on a new connection passes: only a restart or reopen of the input brings the picture.
    link.holdNew(false);
    try {
      await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'Live on program', 40_000).catch((error: Error) => {
        throw new Error(`${error.message}; held connections ${link.held}; timeline: ${timeline()}`);
      });
      console.log(`Live ${((Date.now() - connectedAt) / 1000).toFixed(1)} s after the sender started, held ${link.held}; timeline: ${timeline()}`);
      expect(stack.bridge.obs.programScene()).toBe('Live');
    } finally {
      log.stop();
      await feed.stop();
    }
  });
});

describe('a Live feed whose player draws nothing', () => {
  it("the player's connection cut and OBS's reconnects swallowed while the sender streams on: Offline ('no picture'), then Live once a connection passes", async () => {
    const { observer, srtPort, obsLink } = stack;
    const link = obsLink as NonNullable<TestStack['obsLink']>;
    const log = collectEvents(observer, 'log');
    const timeline = timelineOf(log.items);
    const feed = startReconnectingFeed({ port: srtPort, bitrateKbps: 1500, latencyMs: 500 });
    try {
      await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'Live on program', 40_000);
      await new Promise((r) => setTimeout(r, 3000));
      // OBS's player loses its connection; each one OBS opens again is swallowed. Data keeps reaching ingest.
      link.holdNew(true);
      const left = nextEvent(observer, 'switcher.state', (s) => s.state !== 'live', 'the switcher to leave Live', 20_000);
      link.cutCurrent();
      const cutAt = Date.now();
      const offline = await left.catch((error: Error) => {
        throw new Error(`${error.message}; program ${stack.bridge.obs.programScene()}, held ${link.held}; timeline: ${timeline()}`);
      });
      const leftAfterS = (Date.now() - cutAt) / 1000;
      expect(offline).toMatchObject({ state: 'offline', reason: 'no picture from the feed input' });
      await waitFor(() => stack.bridge.obs.programScene() === 'Offline' || undefined, 'Offline on program', 5000);
      // A path that heals: the switcher's next restart or reopen gets through, and Live comes back with a moving picture.
      link.holdNew(false);
      const healedAt = Date.now();
      await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'Live again', 40_000).catch((error: Error) => {
        throw new Error(`${error.message}; timeline: ${timeline()}`);
      });
      console.log(
        `no picture: Offline ${leftAfterS.toFixed(1)} s after the cut (held ${link.held}), Live ${((Date.now() - healedAt) / 1000).toFixed(1)} s after the path healed; timeline: ${timeline()}`,
      );
    } finally {
      link.holdNew(false);
      log.stop();
      await feed.stop();
    }
  });
});
