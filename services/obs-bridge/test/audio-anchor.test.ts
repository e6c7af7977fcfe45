// The feed audio anchor's rule, against a fake OBS: when it anchors (a restart of the feed input, a scene
// showing the feed on program, OBS resetting that input's audio; not another input's), how (the offset 1 ms
// aside and back to the streamer's), one at a time, and back to the right offset after an anchor cut short.
// The real path (a real OBS, A/V measured on the RTMP output per open) is viewers.e2e.test.ts "every fresh open".
import { obsAudioLag, type ProcessEvent, silentLogger } from '@irlkit/shared';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { FeedAudioAnchor } from '../src/obs/audio-anchor.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let offset: number;
let sets: number[];
let listeners: {
  media?: (input: string) => void;
  scene?: (scene: string | null) => void;
  reachable?: (r: boolean) => void;
  process?: (e: ProcessEvent) => void;
};
let anchor: FeedAudioAnchor;

/** Keeps a listener the anchor registered; returns its (no-op) unsubscribe. */
function listen<K extends keyof typeof listeners>(key: K, listener: (typeof listeners)[K]): () => void {
  listeners[key] = listener;
  return () => undefined;
}

const warning = (detail: string): ProcessEvent => ({
  ts: Date.now(),
  service: 'desktop',
  child: 'obs',
  kind: 'process',
  event: 'warning',
  pid: 1,
  exitCode: null,
  signal: null,
  restartInMs: null,
  detail,
});

beforeEach(() => {
  offset = 30;
  sets = [];
  listeners = {};
  anchor = new FeedAudioAnchor({
    obs: {
      isReachable: () => true,
      audioSyncOffset: async () => offset,
      setAudioSyncOffset: async (_input, ms) => {
        offset = ms;
        sets.push(ms);
      },
      onMediaStarted: (l) => listen('media', l),
      onProgramScene: (l) => listen('scene', l),
      onReachable: (l) => listen('reachable', l),
    },
    bus: { subscribe: ((_name: string, l: (e: ProcessEvent) => void) => listen('process', l)) as never },
    input: 'SRT feed',
    feedScenes: () => ['Live', 'Low'],
    log: silentLogger(),
    afterStartMs: [10, 40],
    afterChangeMs: 10,
    holdMs: 5,
  });
  anchor.start();
});

afterEach(() => anchor.stop());

it('moves the offset 1 ms aside and back after the feed input starts, twice (its first frames come later)', async () => {
  listeners.media?.('SRT feed');
  await sleep(120);
  expect(sets).toEqual([31, 30, 31, 30]);
  expect(anchor.anchored).toBe(2);
});

it('anchors when a scene showing the feed goes on program and when OBS resets the feed input audio, not for other scenes or inputs', async () => {
  listeners.scene?.('Offline');
  listeners.media?.('Mic');
  listeners.process?.(warning(obsAudioLag.detail('Mic', 300)));
  listeners.process?.(warning('OBS reached its maximum audio buffering: late audio is now dropped'));
  await sleep(80);
  expect(sets).toEqual([]);
  listeners.scene?.('Low');
  await sleep(40);
  listeners.process?.(warning(obsAudioLag.detail('SRT feed', 1256.2)));
  await sleep(40);
  expect(sets).toEqual([31, 30, 31, 30]);
});

it('runs one anchor at a time and one more for requests made meanwhile', async () => {
  await Promise.all([anchor.anchor(), anchor.anchor(), anchor.anchor()]);
  expect(sets).toEqual([31, 30, 31, 30]);
});

it('with a zero offset goes to 1 ms and back (OBS places the audio on the change back from a nonzero one)', async () => {
  offset = 0;
  await anchor.anchor();
  expect(sets).toEqual([1, 0]);
});

it('after an anchor cut short, comes back to the offset from before it, not the one it left', async () => {
  // The move aside works, the way back does not (OBS went away in between).
  const fail = { at: 2, calls: 0 };
  const obs = (anchor as unknown as { options: { obs: { setAudioSyncOffset: (input: string, ms: number) => Promise<void> } } }).options.obs;
  const set = obs.setAudioSyncOffset;
  obs.setAudioSyncOffset = async (input, ms) => {
    fail.calls += 1;
    if (fail.calls === fail.at) throw new Error('OBS went away');
    await set(input, ms);
  };
  await anchor.anchor();
  expect(offset).toBe(31);
  expect(anchor.anchored).toBe(0);
  await anchor.anchor();
  expect(sets).toEqual([31, 31, 30]);
  expect(offset).toBe(30);
  expect(anchor.anchored).toBe(1);
});
