// The mirror's rule for preview screenshots, on a fake clock: only while a dashboard page is open, one at
// once when a page opens, none after the count drops to 0 or stops being repeated. The real path (a real
// OBS, a real bus) is obs.test.ts "takes preview screenshots only while a dashboard page is open".
import type { Bus, EventName, Logger } from '@irlkit/shared';
import { silentLogger } from '@irlkit/shared';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { ObsClient } from '../src/obs/client.ts';
import { ObsMirror, VIEWERS_TTL_MS } from '../src/obs/mirror.ts';

// The smallest JPEG header jpegSize() reads: SOI, then an SOF0 of 360×640.
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0x68, 0x02, 0x80, 0x03, 0, 0, 0, 0, 0, 0, 0]).toString('base64');

let shots: number;
let viewersHandler: ((payload: { ts: number; viewers: number }) => void) | undefined;
let mirror: ObsMirror;

beforeEach(() => {
  vi.useFakeTimers();
  shots = 0;
  const bus = {
    subscribe: (name: EventName, handler: (payload: never) => void) => {
      if (name === 'dashboard.viewers') viewersHandler = handler as typeof viewersHandler;
      return () => {
        viewersHandler = undefined;
      };
    },
    publish: (name: EventName) => {
      if (name === 'obs.screenshot') shots += 1;
      return true;
    },
  } as unknown as Bus;
  const obs = {
    on: () => undefined,
    off: () => undefined,
    isReachable: () => true,
    scene: 'Live',
    scenes: ['Live'],
    streaming: false,
    recording: false,
    micMuted: false,
    lastError: null,
    streamStatus: async () => ({ outputActive: false, outputBytes: 0, outputSkippedFrames: 0, outputTotalFrames: 0, outputTimecode: '00:00:00.000' }),
    stats: async () => ({ cpuUsage: 1, renderSkippedFrames: 0, outputSkippedFrames: 0 }),
    recordStatus: async () => ({ outputActive: false, outputTimecode: '00:00:00.000' }),
    sourceScreenshot: async () => `data:image/jpeg;base64,${JPEG}`,
  } as unknown as ObsClient;
  mirror = new ObsMirror({ bus, obs, log: silentLogger() as Logger, screenshot: { width: 640, intervalMs: 1000, quality: 70 }, now: () => Date.now() });
  mirror.start();
});

afterEach(() => {
  mirror.stop();
  vi.useRealTimers();
});

const viewers = (count: number) => viewersHandler?.({ ts: Date.now(), viewers: count });

it('takes no screenshot while no dashboard page is open', async () => {
  await vi.advanceTimersByTimeAsync(10_000);
  expect(shots).toBe(0);
});

it('takes one at once when a page opens, then one a second, and none once the count is 0', async () => {
  viewers(1);
  await vi.advanceTimersByTimeAsync(0);
  expect(shots).toBe(1);
  await vi.advanceTimersByTimeAsync(3000);
  expect(shots).toBe(4);
  viewers(0);
  await vi.advanceTimersByTimeAsync(5000);
  expect(shots).toBe(4);
});

it('stops when the count is not repeated (the dashboard went away) and goes on while it is', async () => {
  viewers(2);
  for (let i = 0; i < 4; i++) {
    await vi.advanceTimersByTimeAsync(5000);
    viewers(2); // the dashboard repeats every 5 s
  }
  const whileRepeated = shots;
  expect(whileRepeated).toBeGreaterThanOrEqual(20);
  await vi.advanceTimersByTimeAsync(VIEWERS_TTL_MS + 5000);
  const afterSilence = shots;
  await vi.advanceTimersByTimeAsync(10_000);
  expect(shots).toBe(afterSilence); // stopped
  expect(afterSilence - whileRepeated).toBeLessThanOrEqual(VIEWERS_TTL_MS / 1000 + 1);
});
