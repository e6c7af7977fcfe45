// The feed path under faults, end to end on real components (ffmpeg → ingest → srt-live-transmit →
// OBS under Xvfb → obs-bridge, private network namespace): a still but noisy shot stays Live, a
// picture frozen while data flows goes Offline, a hung or killed srt-live-transmit and a crashed OBS come back
// to Live only with a moving picture.
import {
  armEvent,
  collectEvents,
  freeUdpPort,
  nextEvent,
  programMotion,
  startReconnectingFeed,
  startSrtlaSender,
  startStack,
  type TestStack,
  waitFor,
} from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GrayPicture, parsePgm, pictureDifference, STILL_PICTURE_DIFFERENCE } from '../services/obs-bridge/src/switcher/picture.ts';

const FEED_INPUT = 'SRT feed';
/** A 60 s watch that OBS crashed in is watched again: two watches, the waits for Live and the previous case's end. */
const WATCH_TWICE_MS = 200_000;
/** The kill -9 case's kills under each sender. */
const KILLS = 2;
let stack: TestStack;
/** The bonded (SRTLA) senders' door. */
let srtlaPort: number;
beforeAll(async () => {
  srtlaPort = await freeUdpPort();
  stack = await startStack({
    ingestEnv: { SRTLA_PORT: String(srtlaPort), SRTLA_BIND: '127.0.0.1' },
    bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'feed_faults' },
  });
  // Each case is its own fault: the flap damping of the one before (which doubles the hold before
  // Live) is the switcher tests' subject, not these.
  await stack.observer.request('switcher.config', { flapWindowMs: 1000 });
});
afterAll(async () => {
  await stack?.stop();
});

/**
 * The previous case's sender is gone: its picture plays out of the buffers before the switcher leaves
 * Live (the lost-feed rule). Each case starts once that is over, so its events are its own.
 */
async function settledOffline(): Promise<void> {
  await nextEvent(stack.observer, 'switcher.state', (s) => s.state === 'offline', 'the previous feed to end on Offline', 20_000);
  // Both events are also published once a second as heartbeats: until OBS has switched, a heartbeat may
  // still say Live on program, which the next case would take for its own Live (seen on a loaded machine).
  await waitFor(() => (stack.bridge.obs.programScene() === 'Live' ? undefined : true), 'program to leave Live', 10_000, 50);
}

/**
 * A sender (calling again as soon as its connection breaks) on Live for 2 s, and what the next fault is
 * watched by: program leaving Live. Returns the sender and srt-live-transmit's pid.
 */
async function liveForAFault() {
  const { observer, srtPort } = stack;
  await settledOffline();
  const feed = startReconnectingFeed({ port: srtPort, bitrateKbps: 2500, latencyMs: 500 }, 100);
  const pid = stack.ingest.transmit.pid as number;
  await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'Live on program', 30_000).catch(async (error: unknown) => {
    await feed.stop();
    throw error;
  });
  await new Promise((r) => setTimeout(r, 2000));
  const offline = await armEvent(observer, 'obs.state', (s) => s.programScene !== 'Live', 'Live to leave program', 10_000);
  return { feed, pid, offline };
}

/**
 * Under a sender that calls again at once: Live, then srt-live-transmit killed KILLS times, each from a child that
 * ran over 10 s (ingest's crash-loop backoff would otherwise delay its restart), each back on Live with a moving picture.
 */
async function killsWhileLive(label: string, timeline: ReturnType<typeof collectEvents<'log'>>): Promise<void> {
  const { observer } = stack;
  await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', `Live on program (${label})`, 30_000);
  for (let kill = 1; kill <= KILLS; kill++) {
    await new Promise((r) => setTimeout(r, kill === 1 ? 2000 : 11_000));
    const offline = await armEvent(observer, 'obs.state', (s) => s.programScene !== 'Live', 'Live to leave program', 10_000);
    const pid = stack.ingest.transmit.pid as number;
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    const left = await offline.next;
    const live = await nextEvent(observer, 'switcher.state', (s) => s.state === 'live' && s.since > killedAt, 'Live again after the kill', 30_000);
    const at = (message: string) => timeline.items.find((e) => e.receivedAt >= killedAt && e.message.startsWith(message))?.receivedAt ?? Number.NaN;
    const senderBack = at('Feed connected');
    const obsLeft = at('OBS disconnected from the feed');
    const obsBack = at('OBS connected to the feed');
    const seen = `${label} kill ${kill}: ${left.programScene} on program after ${left.receivedAt - killedAt} ms; sender back after ${senderBack - killedAt} ms, OBS left the dead feed after ${obsLeft - killedAt} ms and read the new one after ${obsBack - killedAt} ms; Live with a moving picture again after ${live.since - killedAt} ms`;
    console.log(seen);
    expect(live.reason, seen).toMatch(/picture moving/);
    // OBS's connection to the dead feed stays open (silent) until the switcher gives the input a fresh player once
    // the sender is back, which replaces it at once. With that connection closed at the kill, OBS was seen reading
    // its end and waiting out its own 1 s reconnect delay, ignoring the fresh player asked for meanwhile: OBS read the
    // new feed 0.75 s after the sender was back, Live 3.0 s after the kill (`pnpm faults feed-relay`).
    expect(Math.abs(obsBack - obsLeft), `OBS read the end of the dead feed and waited to reconnect: ${seen}`).toBeLessThan(100);
    // The sender back, the switcher waits 300 ms past the switch to Offline before it opens the player.
    expect(obsBack - senderBack, seen).toBeLessThan(700);
    // Goal 3 s (docs/RELIABILITY.md, `pnpm faults feed-relay`: 1.9-2.0 s); generous for a loaded machine.
    expect(live.since - killedAt, seen).toBeLessThan(4500);
    expect(stack.ingest.transmit.pid, seen).not.toBe(pid);
    expect(await programMotion(stack.observer)).toBeGreaterThan(1);
  }
}

/**
 * Live on program, then `ms` of screenshots of the feed input as the frozen-picture watch takes them: what the
 * switcher did meanwhile (every state other than Live, with its reason), the timeline's "frozen" entries, and
 * OBS's crashes (its process exiting by a signal).
 */
async function watchStillShot(observer: TestStack['observer'], ms: number) {
  const log = collectEvents(observer, 'log');
  const processes = collectEvents(observer, 'process');
  try {
    await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'Live on program', 60_000);
    const states = collectEvents(observer, 'switcher.state');
    // What the frozen-picture watch sees: 64 px grayscale screenshots of the feed input, once a second.
    const differences: number[] = [];
    let last: GrayPicture | undefined;
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const shot = await stack.bridge.obs
        .sourceScreenshot(FEED_INPUT, 64, 'pgm')
        .then(parsePgm)
        .catch(() => undefined);
      if (last && shot) differences.push(pictureDifference(last, shot));
      last = shot;
      await new Promise((r) => setTimeout(r, 1000));
    }
    states.stop();
    const sorted = [...differences].sort((a, b) => a - b);
    console.log(
      `mean difference between 64 px screenshots of the feed input 1 s apart: min ${sorted[0]?.toFixed(2)}, median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(2)} (still below ${STILL_PICTURE_DIFFERENCE})`,
    );
    return {
      departures: states.items.filter((s) => s.state !== 'live').map((s) => `${s.state}: ${s.reason}`),
      frozenLogs: log.items.filter((e) => /frozen/i.test(e.message)),
      obsCrashes: processes.items.filter((e) => e.child === 'obs' && e.event === 'exited' && e.signal !== null).map((e) => `obs ${e.signal}`),
    };
  } finally {
    log.stop();
    processes.stop();
  }
}

/** Resolves once two consecutive screenshots of the feed input differ: its picture moves. */
async function inputMoves(timeoutMs: number): Promise<number> {
  let last: string | undefined;
  let changes = 0;
  return waitFor(
    async () => {
      const shot = await stack.bridge.obs.sourceScreenshot(FEED_INPUT, 96);
      if (last !== undefined && shot !== last) changes += 1;
      last = shot;
      return changes >= 2 ? Date.now() : undefined;
    },
    'the feed input to show a moving picture',
    timeoutMs,
    50,
  );
}

describe('the feed path under faults', () => {
  it(
    'a still, dark shot with camera noise stays Live for 60 s with no restart of the feed input',
    async () => {
      const { observer, srtPort } = stack;
      const feed = startReconnectingFeed({ port: srtPort, bitrateKbps: 2500, latencyMs: 500, scene: 'noisy-still' });
      try {
        // OBS 29 itself crashes now and then (one SIGSEGV in a whole suite's run was seen, with nothing of ours in
        // its way); the desktop service restarts it and the switcher rightly leaves Live meanwhile. That is not
        // this case's subject: a watch in which OBS crashed is said so and watched again, once.
        for (let watch = 1; ; watch++) {
          const outcome = await watchStillShot(observer, 60_000);
          if (outcome.obsCrashes.length && watch === 1) {
            console.log(`noisy still shot: OBS crashed during the watch (${outcome.obsCrashes.join('; ')}); watching again`);
            continue;
          }
          expect(outcome.obsCrashes, 'OBS crashed during a second watch too').toEqual([]);
          // A still shot never leaves Live, for any reason (the failure names the reasons given).
          expect(outcome.departures, 'left Live during 60 s of a still shot').toEqual([]);
          expect(outcome.frozenLogs).toEqual([]);
          expect(stack.bridge.obs.programScene()).toBe('Live');
          break;
        }
      } finally {
        await feed.stop();
      }
    },
    WATCH_TWICE_MS,
  );

  it(
    'a moving picture under a strobe (white 0.7 s of every second) stays Live for 60 s with no restart of the feed input',
    async () => {
      // Screenshots about a second apart land in the strobe's white phase 7 times in 10: before the watch looked
      // closer, runs of them read as a frozen picture and restarted the input (and a frozen verdict went Offline).
      const { observer, srtPort } = stack;
      // The previous case's sender is stopped: its departure (Offline, "sender … closed the connection") must not be
      // taken for this one's (seen: a heartbeat still saying Live let the watch start before that departure came).
      await settledOffline();
      const feed = startReconnectingFeed({ port: srtPort, bitrateKbps: 2500, latencyMs: 500, scene: 'strobe' });
      try {
        for (let watch = 1; ; watch++) {
          const outcome = await watchStillShot(observer, 60_000);
          if (outcome.obsCrashes.length && watch === 1) {
            console.log(`strobe: OBS crashed during the watch (${outcome.obsCrashes.join('; ')}); watching again`);
            continue;
          }
          expect(outcome.obsCrashes, 'OBS crashed during a second watch too').toEqual([]);
          expect(outcome.frozenLogs.map((e) => e.message)).toEqual([]);
          expect(outcome.departures, `left Live during 60 s of a strobe (the sender's ffmpeg exits: ${JSON.stringify(feed.exits)})`).toEqual([]);
          break;
        }
      } finally {
        await feed.stop();
      }
    },
    WATCH_TWICE_MS,
  );

  it('a picture frozen while data keeps flowing: the feed input is restarted once, then Offline "picture frozen"', async () => {
    const { observer, srtPort } = stack;
    await settledOffline();
    // The camera hangs 15 s in (Live comes within a few seconds on this warm stack); the encoder keeps sending the same picture.
    const feed = startReconnectingFeed({ port: srtPort, bitrateKbps: 2500, latencyMs: 500, scene: 'freezes', freezeAfterFrames: 15 * 30 });
    const startedAt = Date.now();
    const log = collectEvents(observer, 'log');
    try {
      const live = await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'Live on program', 30_000);
      // An Offline that began after this feed went Live: a heartbeat of the previous case's Offline is not it.
      const frozen = await nextEvent(
        observer,
        'switcher.state',
        (s) => s.state === 'offline' && s.since > live.receivedAt,
        'Offline after the picture froze',
        40_000,
      );
      console.log(`frozen picture: Offline ${frozen.since - startedAt - 15_000} ms after the camera froze (about; ffmpeg's start is counted in)`);
      expect(frozen.reason).toBe('picture frozen');
      await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Offline', 'Offline on program');
      const restarts = log.items.filter((e) => /Picture frozen .*restarting/.test(e.message));
      expect(restarts).toHaveLength(1);
      // Data never stopped: ingest still reports the feed connected.
      const stats = await nextEvent(observer, 'ingest.stats', () => true, 'ingest stats');
      expect(stats.connected && stats.bitrateKbps > 500).toBe(true);
    } finally {
      log.stop();
      await feed.stop();
    }
  });

  it(
    'srt-live-transmit killed (kill -9) while Live, twice under a plain sender and twice under a bonded one: OBS never waits out its own reconnect delay, and Live comes back with a moving picture within seconds',
    async () => {
      const { observer, srtPort } = stack;
      const timeline = collectEvents(observer, 'log');
      try {
        await settledOffline();
        const plain = startReconnectingFeed({ port: srtPort, bitrateKbps: 2500, latencyMs: 500 }, 100);
        try {
          await killsWhileLive('plain', timeline);
        } finally {
          await plain.stop();
        }
        await settledOffline();
        // The faults run's first kill under a bonded sender (which follows a change of sender) is where OBS was seen
        // reading the dead feed's end in 3 of 4 runs.
        const sender = await startSrtlaSender({ host: '127.0.0.1', port: srtlaPort }, 2);
        const bonded = startReconnectingFeed({ port: sender.port, bitrateKbps: 2500, latencyMs: 500 }, 100);
        try {
          await killsWhileLive('bonded', timeline);
        } finally {
          await bonded.stop();
          await sender.stop();
        }
      } finally {
        timeline.stop();
      }
    },
    2 * KILLS * 45_000,
  );

  it('srt-live-transmit SIGSTOPped while Live: Offline within 3 s, restarted, and Live again with a moving picture', async () => {
    const { observer } = stack;
    const { feed, pid, offline } = await liveForAFault();
    try {
      const hang = await armEvent(observer, 'process', (e) => e.child === 'srt-live-transmit' && e.event === 'unhealthy', 'the hang reported', 10_000);
      process.kill(pid, 'SIGSTOP');
      const stoppedAt = Date.now();
      const left = await offline.next;
      console.log(`SIGSTOP → ${left.programScene} on program after ${left.receivedAt - stoppedAt} ms`);
      // Goal 3 s (docs/RELIABILITY.md); generous here for a loaded 2-core machine.
      expect(left.receivedAt - stoppedAt).toBeLessThan(8000);
      await hang.next;
      const live = await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'Live on program again', 30_000);
      console.log(`SIGSTOP → Live with a moving picture again after ${live.receivedAt - stoppedAt} ms`);
      expect(stack.ingest.transmit.pid).not.toBe(pid);
      expect(await programMotion(stack.observer)).toBeGreaterThan(1);
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // restarted already
      }
      await feed.stop();
    }
  });

  it('OBS killed while Live: the feed input reconnects within 1 s of the websocket answering, and Live comes back only with a moving picture', async () => {
    const { observer, srtPort } = stack;
    await settledOffline();
    const feed = startReconnectingFeed({ port: srtPort, bitrateKbps: 2500, latencyMs: 500 }, 100);
    try {
      await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'Live on program', 30_000);
      await new Promise((r) => setTimeout(r, 2000));
      const pid = stack.obs.app.runtime.obs.pid as number;
      const down = await armEvent(observer, 'obs.state', (s) => !s.reachable, 'OBS unreachable', 10_000);
      const onFeed = await armEvent(
        observer,
        'log',
        (e) => e.source === 'ingest' && e.message === 'OBS connected to the feed',
        'the new OBS to connect to the feed',
        60_000,
      );
      process.kill(pid, 'SIGKILL');
      const killedAt = Date.now();
      await down.next;
      const states = collectEvents(observer, 'switcher.state');
      const programs = collectEvents(observer, 'obs.state');
      await waitFor(() => stack.bridge.obs.isReachable(), 'the websocket to answer again', 60_000, 20);
      const answeredAt = Date.now();
      const connectedAt = (await onFeed.next).receivedAt;
      const movingAt = await inputMoves(15_000);
      // Live may already be on program by now (the switcher's screenshots run beside the test's).
      const liveOnProgram = () => programs.items.find((s) => s.reachable && s.programScene === 'Live');
      await waitFor(() => liveOnProgram() !== undefined, 'Live on program after the restart', 30_000, 50);
      states.stop();
      programs.stop();
      const firstLiveAt = (liveOnProgram() as { receivedAt: number }).receivedAt;
      const liveWithoutPictureMs = Math.max(0, movingAt - firstLiveAt);
      console.log(
        `OBS kill → websocket ${answeredAt - killedAt} ms; feed input connected ${connectedAt - answeredAt} ms and moving ${movingAt - answeredAt} ms after it answered; Live ${firstLiveAt - killedAt} ms after the kill; Live without a moving picture ${liveWithoutPictureMs} ms`,
      );
      // Goal 1 s (docs/RELIABILITY.md, measured by `pnpm faults obs-killed`); generous here: on a loaded
      // 2-core machine OBS itself takes seconds to load its scenes after the websocket answers.
      expect(connectedAt - answeredAt).toBeLessThan(6000);
      // Nothing put Live on program before the picture moved: the switcher waited for it.
      const liveState = states.items.find((s) => s.state === 'live');
      expect(liveState?.reason).toMatch(/picture moving/);
      expect(states.items.some((s) => s.state === 'offline' && /OBS restarted/.test(s.reason))).toBe(true);
      // The test's own screenshots lag the switcher's by a poll or two.
      expect(liveWithoutPictureMs).toBeLessThan(500);
      expect(await programMotion(stack.observer)).toBeGreaterThan(1);
    } finally {
      await feed.stop();
    }
  });
});
