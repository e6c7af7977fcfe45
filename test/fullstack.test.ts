// The whole native product from a streamer's seat: an ffmpeg sender over SRT, ingest, a real OBS,
// obs-bridge and the dashboard in Chromium. The Start button makes OBS stream to the RTMP sink, the
// preview shows the program, the mic button mutes OBS's input, and Stop (confirmed) ends the stream.
import { launchChromium, nextEvent, probeUntilAudioAndVideo, startDashboard, startSrtFeed, startStack, type TestStack } from '@irlkit/test-kit';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

let stack: TestStack;
let dashboard: Awaited<ReturnType<typeof startDashboard>>;
let browser: Browser;
let feed: ReturnType<typeof startSrtFeed> | undefined;

beforeAll(async () => {
  stack = await startStack({ bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'fullstack' } });
  dashboard = await startDashboard(stack.nats);
  browser = await launchChromium();
});
afterAll(async () => {
  await feed?.stop();
  await browser?.close();
  await dashboard?.stop();
  await stack?.stop();
});

it('goes on air from the dashboard: Start streams to the RTMP sink, mute reaches OBS, Stop ends it', async () => {
  const { observer, sink, srtPort } = stack;
  feed = startSrtFeed({ port: srtPort, bitrateKbps: 2000, latencyMs: 500, width: 854, height: 480 });
  await nextEvent(observer, 'switcher.state', (s) => s.state === 'live', 'the switcher to show the feed live', 30_000);

  const page = await dashboard.login(browser, { width: 390, height: 844 });
  await page.getByTestId('preview').waitFor({ timeout: 15_000 });
  // OFF AIR as OBS reports it (the badge says OFF AIR before any state arrives, too): wait for OBS's scene.
  await page.getByTestId('scene-Live').waitFor({ timeout: 10_000 });
  await expect.poll(() => page.getByTestId('onair').textContent(), { timeout: 10_000 }).toMatch(/OFF AIR/);

  await page.getByTestId('start').click();
  await expect.poll(() => page.getByTestId('onair').textContent(), { timeout: 20_000 }).toMatch(/ON AIR/);
  const streams = await probeUntilAudioAndVideo(sink.playUrl('test'), 'ffprobe to read the stream the Start button began', 30_000);
  expect(streams.find((s) => s.codec_type === 'video')?.codec_name).toBe('h264');
  expect(streams.find((s) => s.codec_type === 'audio')?.codec_name).toBe('aac');

  const muted = nextEvent(observer, 'obs.state', (s) => s.micMuted === true, 'OBS to report the mic muted', 10_000);
  await page.getByTestId('mute').click();
  await muted;
  await expect.poll(() => page.getByTestId('mute').textContent(), { timeout: 5000 }).toBe('Mic muted');

  page.once('dialog', (dialog) => void dialog.accept());
  const stopped = nextEvent(observer, 'obs.state', (s) => !s.streaming, 'OBS to stop streaming', 20_000);
  await page.getByTestId('stop').click();
  await stopped;
  await expect.poll(() => page.getByTestId('onair').textContent(), { timeout: 10_000 }).toMatch(/OFF AIR/);
  await page.context().close();
});
