// The stream's history on a real nats-server: the sampler's choices, the streams' limits honoured, and the
// dashboard server restarted with its timeline and chart still whole in Chromium.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@irlkit/shared';
import { launchChromium, startDashboard, startNats, type TestDashboard, type TestNats, testBus, waitFor } from '@irlkit/test-kit';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validEvents } from '../../../packages/shared/test/samples.ts';
import { findSessions } from '../lib/history/report.ts';
import { HistorySampler } from '../lib/history/sampler.ts';
import { SessionIndex } from '../lib/history/sessions.ts';
import { HistoryStore } from '../lib/history/store.ts';

const artifacts = fileURLToPath(new URL('../../../test-artifacts/history/', import.meta.url));
const stats = (ts: number, lost = 0) => ({ ...validEvents['ingest.stats'], ts, deltas: { received: 100, lost, dropped: 0, retransmitted: 0 } });

describe('HistorySampler', () => {
  it('keeps one statistics sample a second with the loss of the left-out ones summed in', () => {
    const sampler = new HistorySampler();
    const kept = [];
    for (let i = 0; i < 40; i++) {
      const sample = sampler.offer('ingest.stats', stats(1_000_000 + i * 250, 1));
      if (sample) kept.push(sample);
    }
    expect(kept).toHaveLength(10);
    expect(kept[1]?.deltas.lost).toBe(4);
    expect(kept.reduce((sum, s) => sum + s.deltas.lost, 0)).toBe(37); // the last three wait for the next sample
  });

  it('writes OBS and switcher state on change and once a minute when unchanged', () => {
    const sampler = new HistorySampler();
    const obs = (ts: number, streaming: boolean) => ({ ...validEvents['obs.state'], ts, streaming });
    const written = [0, 1000, 2000, 3000, 61_000, 62_000].map((t, i) => sampler.offer('obs.state', obs(t, i < 3)) !== undefined);
    expect(written).toEqual([true, false, false, true, false, false]);
    expect(sampler.offer('obs.state', obs(121_001, false))).toBeDefined();
  });
});

describe('history streams', () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(async () => nats?.stop());

  it('keeps within small size and age limits, and takes changed limits on the next start', async () => {
    const bus = await testBus(nats);
    const small = new HistoryStore(bus.nc, 'main', { maxAgeMs: 3_600_000, maxBytes: { events: 64 * 1024, samples: 32 * 1024 } }, silentLogger());
    await small.ensureStreams();
    const t0 = Date.now();
    for (let i = 0; i < 400; i++) small.append('ingest.stats', stats(t0 + i * 1000));
    for (let i = 0; i < 20; i++) bus.publish('log', { ts: t0 + i, level: 'info', source: 'test', message: `entry ${i}` });
    await bus.nc.flush();
    const usage = await waitFor(async () => {
      const u = await small.usage();
      return (u.find((s) => s.stream === 'IRLKIT_SAMPLES')?.messages ?? 0) > 0 && u;
    }, 'the samples to be stored');
    const samples = usage.find((s) => s.stream === 'IRLKIT_SAMPLES');
    expect(samples?.bytes).toBeLessThanOrEqual(32 * 1024);
    const kept = await small.read('samples', { fromMs: 0 });
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.length).toBeLessThan(400); // the oldest went first
    expect(kept.at(-1)?.payload.ts).toBe(t0 + 399_000);
    const events = await small.read('events', { fromMs: t0 - 60_000, names: ['log'] });
    expect(events.map((r) => (r.payload as { message: string }).message)).toEqual(Array.from({ length: 20 }, (_, i) => `entry ${i}`));

    // A shorter age limit on the next start: everything older goes.
    const aging = new HistoryStore(bus.nc, 'main', { maxAgeMs: 1500, maxBytes: { events: 64 * 1024, samples: 32 * 1024 } }, silentLogger());
    await aging.ensureStreams();
    expect((await aging.usage()).every((s) => s.maxAgeMs === 1500)).toBe(true);
    await waitFor(async () => (await aging.usage()).every((s) => s.messages === 0), 'messages older than 1.5 s to expire', 15_000, 250);
    await bus.closeConnection();
  });
});

describe('session list', () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(async () => nats?.stop());

  it('reads only the OBS states recorded since the last look, and lists what a full read finds', async () => {
    const bus = await testBus(nats);
    const store = new HistoryStore(bus.nc, 'main', { maxAgeMs: 86_400_000, maxBytes: { events: 1024 * 1024, samples: 1024 * 1024 } }, silentLogger());
    await store.ensureStreams();
    const readCounts: number[] = [];
    const readAfter = store.readAfter.bind(store);
    store.readAfter = async (...args) => {
      const read = await readAfter(...args);
      readCounts.push(read.records.length);
      return read;
    };
    const index = new SessionIndex(store);
    const obs = (ts: number, streaming: boolean) => ({ ...validEvents['obs.state'], ts, streaming });
    const stored = (n: number) => waitFor(async () => (await store.read('events', { fromMs: 0, names: ['obs.state'] })).length === n, `${n} OBS states stored`);
    const t0 = Date.now() - 60 * 60_000;
    // Ten minutes streaming with a heartbeat a minute, then stopped; the timeline in between is not read.
    for (let m = 0; m <= 10; m++) store.append('obs.state', obs(t0 + m * 60_000, m < 10));
    for (let i = 0; i < 5; i++) bus.publish('log', { ts: t0 + i, level: 'info', source: 'test', message: `entry ${i}` });
    await bus.nc.flush();
    await stored(11);
    expect(await index.list(t0 + 11 * 60_000)).toEqual([{ id: String(t0), startTs: t0, endTs: t0 + 600_000 }]);
    // Started again 20 minutes after the stop: a new session, still going.
    for (let m = 30; m <= 35; m++) store.append('obs.state', obs(t0 + m * 60_000, true));
    await bus.nc.flush();
    await stored(17);
    const now = t0 + 36 * 60_000;
    const listed = await index.list(now);
    expect(listed).toEqual([
      { id: String(t0 + 1_800_000), startTs: t0 + 1_800_000, endTs: null },
      { id: String(t0), startTs: t0, endTs: t0 + 600_000 },
    ]);
    expect(listed).toEqual(findSessions(await store.read('events', { fromMs: 0, names: ['obs.state'] }), now).reverse());
    expect(await index.list(now)).toEqual(listed);
    expect(readCounts).toEqual([11, 6, 0]);
    // Past the age limit, a session is gone from the list.
    expect(await index.list(t0 + 600_000 + 86_400_001)).toEqual([{ id: String(t0 + 1_800_000), startTs: t0 + 1_800_000, endTs: t0 + 35 * 60_000 }]);
    await bus.closeConnection();
  });
});

describe('dashboard restarted', () => {
  let nats: TestNats;
  let dashboard: TestDashboard;
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    nats = await startNats();
    dashboard = await startDashboard(nats);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await dashboard?.stop();
    await nats?.stop();
  });

  it('shows the timeline and the chart from before the restart', async () => {
    const bus = await testBus(nats);
    const page = await dashboard.login(browser, { width: 1280, height: 900 });
    await page.getByTestId('onair').waitFor();
    const t0 = Date.now() - 90_000;
    // 90 s of statistics at 4 Hz (as ingest publishes them), and timeline entries among them.
    for (let i = 0; i < 360; i++) {
      bus.publish('ingest.stats', { ...stats(t0 + i * 250), bitrateKbps: 2000 + (i % 40) * 10 });
      if (i % 60 === 0) bus.publish('log', { ts: t0 + i * 250, level: 'warn', source: 'switcher', message: `before restart ${i / 60}` });
    }
    bus.publish('obs.state', { ...validEvents['obs.state'], ts: Date.now(), programScene: 'Live' });
    await bus.nc.flush();
    await expect.poll(() => page.getByTestId('timeline').textContent(), { timeout: 10_000 }).toMatch(/before restart 5/);
    await page.context().close();

    await dashboard.restart();
    const after = await dashboard.login(browser, { width: 1280, height: 900 });
    await expect.poll(() => after.getByTestId('timeline').textContent(), { timeout: 15_000 }).toMatch(/before restart 0[\s\S]*|before restart 5/);
    const timeline = (await after.getByTestId('timeline').textContent()) ?? '';
    for (let i = 0; i < 6; i++) expect(timeline).toContain(`before restart ${i}`);
    // One chart point a second over the 90 s before the restart.
    await expect.poll(async () => Number(await after.getByTestId('chart').getAttribute('data-points')), { timeout: 15_000 }).toBeGreaterThanOrEqual(85);
    expect(await after.getByTestId('program-scene').textContent()).toBe('Live');
    await after.screenshot({ path: `${artifacts}/after-restart.png` });
    await after.context().close();
    await bus.closeConnection();
  });
});
