// The session report page in Chromium, from a session recorded in JetStream: the list, the report with its
// outages and causes, the exports, and screenshots on a phone and a laptop (test-artifacts/report/).
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@irlkit/shared';
import { launchChromium, startDashboard, startNats, type TestDashboard, type TestNats, testBus } from '@irlkit/test-kit';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryStore } from '../lib/history/store.ts';
import { scriptedSession, storeHistory } from './scripted-session.ts';

const artifacts = fileURLToPath(new URL('../../../test-artifacts/report/', import.meta.url));
let nats: TestNats;
let dashboard: TestDashboard;
let browser: Browser;
const t0 = Date.now() - 20 * 60_000;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  nats = await startNats();
  const bus = await testBus(nats);
  // The dashboard's own limits (its defaults), so it finds the streams as it would have made them.
  const store = new HistoryStore(
    bus.nc,
    'main',
    { maxAgeMs: 90 * 86_400_000, maxBytes: { events: 256 * 1024 * 1024, samples: 2048 * 1024 * 1024 } },
    silentLogger(),
  );
  await store.ensureStreams();
  await storeHistory(bus, store, scriptedSession(t0));
  await bus.closeConnection();
  dashboard = await startDashboard(nats);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
  await nats?.stop();
});

describe('session report page', () => {
  for (const [width, height] of [
    [390, 844],
    [1440, 900],
  ] as const) {
    it(`lists the session and shows its report at ${width}×${height}`, async () => {
      const page = await dashboard.login(browser, { width, height });
      await page.getByTestId('sessions-link').click();
      await page.waitForURL(/\/sessions$/);
      const row = page.getByTestId('sessions').locator('tbody tr');
      await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
      expect(await row.textContent()).toMatch(/5 min 00 s/);
      await row.locator('a').click();
      await page.getByTestId('outages').waitFor({ timeout: 15_000 });
      const outages = (await page.getByTestId('outages').textContent()) ?? '';
      expect(outages).toMatch(/sender stalled/);
      expect(outages).toMatch(/OBS restarted/);
      expect(outages).toMatch(/30 s|29\.9 s|29 s/);
      expect(await page.getByTestId('time-by-state').textContent()).toMatch(/By hand\s*30 s/);
      expect(await page.getByTestId('report-links').textContent()).toMatch(/10\.0\.0\.3:4000/);
      expect(await page.locator('[data-testid=report-chart] .recharts-area-area').count()).toBeGreaterThan(0);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: `${artifacts}/report-${width}x${height}.png`, fullPage: true });
      await page.context().close();
    });
  }

  it('exports JSON and CSV, and answers a bad id with 400 naming the field', async () => {
    const page = await dashboard.login(browser);
    const list = await (await page.request.get(`${dashboard.url}/api/sessions`)).json();
    const id = list.sessions[0].id as string;
    expect(id).toBe(String(t0));
    const json = await (await page.request.get(`${dashboard.url}/api/sessions/${id}?download=1`)).json();
    expect(json.report.outages.map((o: { cause: string }) => o.cause)).toEqual(['no-feed', 'sender-stalled', 'obs-restarted']);
    const csv = await page.request.get(`${dashboard.url}/api/sessions/${id}?format=csv`);
    expect(csv.headers()['content-type']).toMatch(/text\/csv/);
    expect(await csv.text()).toContain('sender stalled,feed stalled: no packet for 500 ms');
    const bad = await page.request.get(`${dashboard.url}/api/sessions/x1`);
    expect(bad.status()).toBe(400);
    expect((await bad.json()).error).toMatch(/^id: /);
    expect((await page.request.get(`${dashboard.url}/api/sessions/123`)).status()).toBe(404);
    expect((await fetch(`${dashboard.url}/api/sessions`)).status).toBe(401);
    await page.context().close();
  });
});
