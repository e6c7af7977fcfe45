// What viewers see, on the real path (flash/beep feed → UDP link → ingest → srt-live-transmit → OBS →
// RTMP sink, recorded and analysed frame by frame): a gap the SRT latency hides causes no switch and
// loses no flash; a dead sender goes Offline when its picture would freeze, not before and not later.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  analyseRecording,
  type FlashFeed,
  nextEvent,
  otherSceneSpans,
  type Recording,
  startFlashFeed,
  startRecorder,
  startStack,
  startUdpLink,
  type TestStack,
  type UdpLink,
  waitFor,
} from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SRT_LATENCY_MS = 2000; // the product's default
let stack: TestStack;
let link: UdpLink;
let dir: string;
const programChanges: Array<{ t: number; scene: string | null }> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'irlkit-viewers-'));
  stack = await startStack({ bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'viewers_e2e' }, ingestEnv: { SRT_LATENCY_MS: String(SRT_LATENCY_MS) } });
  link = await startUdpLink({ host: '127.0.0.1', port: stack.srtPort });
  stack.bridge.obs.onProgramScene((scene) => programChanges.push({ t: Date.now(), scene }));
  const streaming = nextEvent(stack.observer, 'obs.state', (s) => s.streaming, 'OBS streaming to the sink', 30_000);
  expect(await stack.observer.request('stream.start', {})).toEqual({ ok: true });
  await streaming;
}, 120_000);

afterAll(async () => {
  await link?.stop();
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function onLive(feed: FlashFeed): Promise<void> {
  await waitFor(() => stack.bridge.obs.programScene() === 'Live', `Live on program (sender: ${feed.stderr().slice(-300)})`, 40_000, 50);
}

/** Records the sink while `during` runs, then reads the recording. */
async function recordWhile(name: string, during: () => Promise<void>): Promise<Recording> {
  const recorder = startRecorder(stack.sink.playUrl('test'), join(dir, `${name}.flv`));
  await new Promise((r) => setTimeout(r, 2000)); // the recorder's connect and first keyframe
  await during();
  await recorder.stop();
  return analyseRecording(recorder.file);
}

describe('what viewers see', () => {
  it('a 1 s outage stays Live and every flash reaches the RTMP output', async () => {
    const feed = startFlashFeed({ port: link.port, latencyMs: 500, bitrateKbps: 2000 });
    try {
      await onLive(feed);
      await new Promise((r) => setTimeout(r, 3000)); // past the hold after Live
      const from = programChanges.length;
      const rec = await recordWhile('gap-1s', async () => {
        await new Promise((r) => setTimeout(r, 3000));
        link.cut();
        await new Promise((r) => setTimeout(r, 1000));
        link.restore();
        await new Promise((r) => setTimeout(r, 8000));
      });
      expect(programChanges.slice(from), 'no scene change during or after a 1 s outage').toEqual([]);
      expect(link.stats.dropped).toBeGreaterThan(0);
      const flashes = rec.flashesMs;
      expect(flashes.length, 'flashes in 13 s of output').toBeGreaterThanOrEqual(11);
      const gaps = flashes.slice(1).map((t, i) => t - (flashes[i] as number));
      expect(Math.max(...gaps), `every flash 1 s after the last: ${gaps.map(Math.round).join(', ')}`).toBeLessThan(1200);
      expect(otherSceneSpans(rec)).toEqual([]);
    } finally {
      await feed.stop();
    }
    await nextEvent(stack.observer, 'switcher.state', (s) => s.state === 'offline', 'Offline after the sender left', 15_000);
  });

  it('a killed sender goes Offline no later than 0.3 s after the last good frame was shown, cutting none', async () => {
    await new Promise((r) => setTimeout(r, 6000)); // the previous sender is gone for good
    const feed = startFlashFeed({ port: link.port, latencyMs: 500, bitrateKbps: 2000 });
    let killedFrame = 0;
    const rec = await recordWhile('kill', async () => {
      await onLive(feed);
      await new Promise((r) => setTimeout(r, 4000));
      killedFrame = feed.frameAt(Date.now());
      await feed.kill9();
      await waitFor(() => stack.bridge.obs.programScene() === 'Offline', 'Offline on program after the kill', 15_000, 50);
      await new Promise((r) => setTimeout(r, 2000));
    });
    const offline = otherSceneSpans(rec).at(-1);
    expect(offline, 'an Offline span on the output').toBeDefined();
    const before = rec.frames.filter((f) => f.ptsMs < (offline?.fromMs as number) && f.senderFrame !== null);
    const last = before.at(-1);
    // The last good frame: the first time the last sender frame was shown.
    const lastGood = before.find((f) => f.senderFrame === last?.senderFrame);
    const lateMs = (offline?.fromMs as number) - (lastGood?.ptsMs as number);
    const cutMs = ((killedFrame - (last?.senderFrame as number)) * 1000) / 30;
    process.stdout.write(
      `kill: Offline ${Math.round(lateMs)} ms after the last good frame; last shown frame ${last?.senderFrame}, sender at ${killedFrame} when killed (${Math.round(cutMs)} ms)\n`,
    );
    expect(lateMs).toBeLessThanOrEqual(300 + 34);
    expect(cutMs, 'good picture cut: frames sent before the kill never shown').toBeLessThanOrEqual(300);
  });
});
