// The dashboard's destinations and recordings in Debian's Chromium, against the real restream service
// (relay, ffmpeg copies to nginx-rtmp sinks) and a real nats-server: add a destination by hand, watch it
// go live, turn it off while live, and download a recording only with a login, in ranges.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordingState } from '@irlkit/shared';
import {
  launchChromium,
  probeStreams,
  probeUntilAudioAndVideo,
  type RtmpSink,
  startDashboard,
  startNats,
  startRestream,
  startRtmpFeed,
  startRtmpSink,
  type TestDashboard,
  type TestNats,
  type TestRestream,
  waitFor,
} from '@irlkit/test-kit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('dashboard: destinations and recordings', () => {
  let nats: TestNats;
  let dashboard: TestDashboard;
  let browser: Browser;
  let sinks: RtmpSink[];
  let restream: TestRestream;
  let recordings: string;
  let feed: ReturnType<typeof startRtmpFeed> | undefined;
  let page: Page;
  let recording: RecordingState | undefined;

  beforeAll(async () => {
    nats = await startNats();
    sinks = await Promise.all([startRtmpSink(), startRtmpSink()]);
    recordings = mkdtempSync(join(tmpdir(), 'irlkit-dash-recordings-'));
    restream = await startRestream(nats, {
      RESTREAM_SEED_URL: sinks[0]?.serverUrl,
      RESTREAM_SEED_KEY: 'seeded-key-secret',
      RECORDING_DIR: recordings,
    });
    restream.bus.subscribe('recording.state', (s) => (recording = s));
    dashboard = await startDashboard(nats, { RECORDING_DIR: recordings });
    browser = await launchChromium();
    page = await dashboard.login(browser, { width: 1280, height: 1000 });
    await page.getByTestId('destinations').waitFor();
  });

  afterAll(async () => {
    await feed?.stop();
    await browser?.close();
    await dashboard?.stop();
    await restream?.stop();
    for (const sink of sinks ?? []) await sink.stop();
    await nats?.stop();
    rmSync(recordings, { recursive: true, force: true });
  });

  it('adds a destination from the page, shows each one going live, and never shows a key', async () => {
    await page.getByTestId('dest-primary').waitFor();
    await page.getByTestId('destination-add').click();
    await page.getByTestId('destination-name').fill('YouTube');
    await page.getByTestId('destination-url').fill('http://not-rtmp.example/live');
    await page.getByTestId('destination-key').fill('typed-key-secret');
    await page.getByTestId('destination-save').click();
    await expect.poll(() => page.getByTestId('destination-problem').textContent()).toMatch(/^url: /);
    await page.getByTestId('destination-url').fill((sinks[1] as RtmpSink).serverUrl);
    await page.getByTestId('destination-save').click();
    await page.getByTestId('dest-youtube').waitFor();
    await expect.poll(() => page.getByTestId('dest-youtube-status').textContent()).toBe('waiting for the stream');

    feed = startRtmpFeed(restream.publishUrl());
    await expect.poll(() => page.getByTestId('dest-youtube-status').textContent(), { timeout: 30_000 }).toBe('live');
    await expect.poll(() => page.getByTestId('dest-primary-status').textContent(), { timeout: 30_000 }).toBe('live');
    await probeUntilAudioAndVideo((sinks[1] as RtmpSink).playUrl('typed-key-secret'), 'the typed destination receiving', 30_000);
    const html = await page.content();
    expect(html).not.toContain('typed-key-secret');
    expect(html).not.toContain('seeded-key-secret');
    expect(await page.getByTestId('dest-youtube').textContent()).toMatch(/key …cret/);
  });

  it('turns one destination off while live: only it stops', async () => {
    await page.getByTestId('dest-youtube-toggle').click();
    await expect.poll(() => page.getByTestId('dest-youtube-status').textContent(), { timeout: 10_000 }).toBe('off');
    expect(await probeStreams((sinks[1] as RtmpSink).playUrl('typed-key-secret'), 4000)).toEqual([]);
    expect(await page.getByTestId('dest-primary-status').textContent()).toBe('live');
    await probeUntilAudioAndVideo((sinks[0] as RtmpSink).playUrl('seeded-key-secret'), 'the primary still receiving', 20_000);
  });

  it('lists the recording and downloads it only with a login, in ranges', async () => {
    await page.getByTestId('recordings').waitFor();
    const name = await waitFor(() => recording?.current ?? undefined, 'a recording being written', 20_000);
    await page.getByTestId(`recording-${name}`).waitFor({ timeout: 10_000 });
    await waitFor(() => (recording?.files.find((f) => f.name === name)?.bytes ?? 0) > 10_000, 'the recording to grow', 20_000);
    const url = `${dashboard.url}/api/recordings/${name}`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { cookie: 'irlkit_session=1.forged.token' } })).status).toBe(401);
    const part = await page.context().request.get(url, { headers: { range: 'bytes=0-99' } });
    expect(part.status()).toBe(206);
    expect((await part.body()).length).toBe(100);
    expect(part.headers()['content-range']).toMatch(/^bytes 0-99\/\d+$/);
    // Matroska's EBML magic opens the file.
    expect((await part.body()).subarray(0, 4).toString('hex')).toBe('1a45dfa3');
    const whole = await page.context().request.get(url);
    expect(whole.status()).toBe(200);
    expect((await whole.body()).length).toBeGreaterThan(10_000);
    expect((await page.context().request.get(`${dashboard.url}/api/recordings/..%2F..%2Fetc%2Fpasswd`)).status()).toBe(400);
    expect((await page.context().request.get(url, { headers: { range: 'bytes=999999999-' } })).status()).toBe(416);
  });
});
