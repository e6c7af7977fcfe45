// srt-live-transmit failing under a live feed, on real ffmpeg senders (plain SRT and SRTLA-bonded),
// srt-live-transmit and nats-server: a hung child is found and restarted, and after any restart the
// sender, and the reader standing in for OBS, are told their session is over, so they reconnect at once
// instead of after their 5 s idle timeout.
import { armEvent, nextEvent, startFeedReader, startNats, startReconnectingFeed, startSrtlaSender, type TestNats, waitFor } from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OBS_READER_GRACE_MS } from '../src/stream-feed.ts';
import { startTestIngest } from './test-ingest.ts';

let nats: TestNats;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats?.stop();
});

async function startIngest(bonded: boolean, env: Record<string, string> = {}) {
  const ingest = await startTestIngest(nats, {
    latencyMs: 500,
    srtla: bonded,
    env,
    logName: 'ingest-test',
    logLevel: process.env.TEST_LOG ?? 'warn',
  });
  const { app, observer, srtPort, srtlaPort, outputPort } = ingest;
  const reader = startFeedReader(outputPort);
  const sender = bonded ? await startSrtlaSender({ host: '127.0.0.1', port: srtlaPort }, 2) : undefined;
  // Like a phone: reconnect as soon as the SRT connection breaks.
  const feed = startReconnectingFeed({ port: sender?.port ?? srtPort, bitrateKbps: 1500, latencyMs: 500 }, 100);
  return {
    app,
    observer,
    reader,
    feed,
    outputPort,
    stop: async () => {
      await feed.stop();
      await sender?.stop();
      await reader.stop();
      await ingest.stop();
    },
  };
}

/** Waits until the decoder behind srt-live-transmit has decoded `more` frames beyond now. */
async function picture(reader: ReturnType<typeof startFeedReader>, more: number, what: string, timeoutMs = 15_000) {
  const from = reader.frames();
  await waitFor(() => reader.frames() >= from + more, what, timeoutMs, 50);
}

describe('srt-live-transmit faults under a live feed', () => {
  it('a hung (SIGSTOPped) srt-live-transmit is killed and restarted with an event naming the cause; the feed comes back', async () => {
    const ingest = await startIngest(false);
    const pid = ingest.app.transmit.pid as number;
    try {
      await nextEvent(ingest.observer, 'ingest.link', (e) => e.event === 'connected', 'the feed to connect', 15_000);
      await picture(ingest.reader, 30, 'a moving picture before the fault');
      const unhealthy = await armEvent(
        ingest.observer,
        'process',
        (e) => e.child === 'srt-live-transmit' && e.event === 'unhealthy',
        'a hang reported',
        10_000,
      );
      const back = await armEvent(ingest.observer, 'ingest.link', (e) => e.event === 'connected', 'the feed back after the hang', 15_000);
      const dropped = await armEvent(ingest.observer, 'ingest.link', (e) => e.event === 'disconnected', 'the feed to drop', 10_000);
      process.kill(pid, 'SIGSTOP');
      const stoppedAt = Date.now();
      const hang = await unhealthy.next;
      expect(hang.detail).toMatch(/no answer or statistics/);
      expect(hang.pid).toBe(pid);
      // Generous for a loaded 2-core machine (INGEST_RELAY_HUNG_MS is 1.5 s); before the fix it never came.
      expect(hang.receivedAt - stoppedAt).toBeLessThan(5000);
      // Only what the child had written out is left to play (woken to end, SIGTERM + SIGCONT, it flushes a
      // last burst), not the SRT latency (500 ms here) of a buffer that dies with the child.
      expect((await dropped.next).playoutMs).toBeLessThan(500);
      const connected = await back.next;
      console.log(`hang reported ${hang.receivedAt - stoppedAt} ms, feed back ${connected.receivedAt - stoppedAt} ms after SIGSTOP`);
      expect(ingest.app.transmit.pid).not.toBe(pid);
      expect(connected.receivedAt - stoppedAt).toBeLessThan(15_000);
      await picture(ingest.reader, 10, 'a moving picture after the restart', 10_000);
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await ingest.stop();
    }
  });

  it("OBS's input reopened at once after a kill -9 keeps its new session: only the dead child's sessions are ended", async () => {
    // The dead child's readers are ended when it dies; OBS's reopened input (the switcher restarts it as soon
    // as the sender is back) is a new reader and must live on. Ending every reader later cut that new one,
    // and OBS came back a second later.
    const ingest = await startIngest(false);
    let reopened: ReturnType<typeof startFeedReader> | undefined;
    try {
      await nextEvent(ingest.observer, 'ingest.link', (e) => e.event === 'connected', 'the feed to connect', 15_000);
      await picture(ingest.reader, 30, 'a moving picture before the fault');
      const back = await armEvent(ingest.observer, 'ingest.link', (e) => e.event === 'connected', 'the sender to reconnect', 20_000);
      process.kill(ingest.app.transmit.pid as number, 'SIGKILL');
      const killedAt = Date.now();
      await back.next;
      // As OBS's restart of its input does: the old session closed, a new one opened.
      await ingest.reader.stop();
      reopened = startFeedReader(ingest.outputPort);
      await picture(reopened, 10, 'a picture on the reopened input', 10_000);
      const openedAt = Date.now();
      // The reopened reader must live on.
      await new Promise((r) => setTimeout(r, Math.max(0, killedAt + 2500 - Date.now())));
      console.log(
        `reopened input decoding ${openedAt - killedAt} ms after kill -9; its session ends: ${JSON.stringify(reopened.exits().map((t) => t - killedAt))}`,
      );
      expect(reopened.exits()).toEqual([]);
      await picture(reopened, 10, 'the reopened input still decoding', 5000);
      expect(reopened.exits()).toEqual([]);
    } finally {
      await reopened?.stop();
      await ingest.stop();
    }
  });

  for (const bonded of [false, true]) {
    it(`after a kill -9 of srt-live-transmit the ${bonded ? 'bonded (SRTLA)' : 'plain SRT'} sender and OBS's side are told at once and reconnect`, async () => {
      const ingest = await startIngest(bonded);
      try {
        const first = await nextEvent(ingest.observer, 'ingest.link', (e) => e.event === 'connected', 'the feed to connect', 15_000);
        expect(first.obsSessionEnded).toBeUndefined();
        await picture(ingest.reader, 30, 'a moving picture before the fault');
        const back = await armEvent(ingest.observer, 'ingest.link', (e) => e.event === 'connected', 'the sender to reconnect', 20_000);
        const disconnected = await armEvent(ingest.observer, 'ingest.link', (e) => e.event === 'disconnected', 'the feed to drop', 10_000);
        const session = ingest.feed.current();
        process.kill(ingest.app.transmit.pid as number, 'SIGKILL');
        const killedAt = Date.now();
        await session.exited;
        const endedAt = Date.now();
        const readerEndedAt = await waitFor(() => ingest.reader.exits().find((t) => t >= killedAt), "the reader's session to end", 15_000, 20);
        const connected = await back.next;
        // A bonded session is one sender whichever link spoke last: the timeline names its group.
        const peer = bonded ? /^SRTLA group [0-9a-f]{8}$/ : /^127\.0\.0\.1:\d+$/;
        const drop = await disconnected.next;
        expect(drop.peer).toMatch(peer);
        // Only what the killed child had written out plays, not the 500 ms of the SRT buffer that died with it.
        expect(drop.playoutMs).toBeLessThan(500);
        expect(connected.peer).toMatch(peer);
        // OBS's reading ended with the child: the returning sender's connection says so, for the switcher to open
        // OBS's player afresh rather than restart the ended one.
        expect(connected.obsSessionEnded).toBe(true);
        console.log(
          `${bonded ? 'bonded' : 'plain'}: sender's session ended ${endedAt - killedAt} ms, the reader's ${readerEndedAt - killedAt} ms, sender reconnected ${connected.receivedAt - killedAt} ms after kill -9`,
        );
        // Told, the sender ends its session at once; untold, it waits for its 5 s peer-idle timeout first.
        expect(endedAt - killedAt).toBeLessThan(3000);
        // OBS's side gets nothing more of the dead feed, and its connection is closed after the grace (in which the
        // switcher replaces it with a fresh player: an ended one would wait out OBS's own 1 s reconnect delay).
        expect(readerEndedAt - killedAt).toBeGreaterThanOrEqual(OBS_READER_GRACE_MS - 50);
        expect(readerEndedAt - killedAt).toBeLessThan(OBS_READER_GRACE_MS + 1000);
        await picture(ingest.reader, 10, 'a moving picture after the restart', 15_000);
        // The rest is the sender starting over (a new ffmpeg here): generous for a loaded machine.
        expect(connected.receivedAt - killedAt).toBeLessThan(15_000);
      } finally {
        await ingest.stop();
      }
    });
  }
});
