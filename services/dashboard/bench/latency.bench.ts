// Dashboard latency: an event published on NATS → visible in the page (Chromium), 60 samples.
import { launchChromium, startDashboard, startNats, testBus, waitFor } from '@irlkit/test-kit';
import { summarize, writeBenchSection } from '../../../test/bench/report.ts';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 60);
const nats = await startNats();
const dashboard = await startDashboard(nats);
const browser = await launchChromium();
const bus = await testBus(nats);
const page = await dashboard.login(browser, { width: 390, height: 844 });
await page.getByTestId('timeline').waitFor({ state: 'attached' });
await page.evaluate(() => {
  const seen: Record<string, number> = {};
  (window as unknown as { seen: Record<string, number> }).seen = seen;
  new MutationObserver(() => {
    for (const li of document.querySelectorAll('[data-testid=timeline] li')) {
      const id = /probe-(\d+)/.exec(li.textContent ?? '')?.[1];
      if (id && !(id in seen)) seen[id] = Date.now();
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
});
await new Promise((r) => setTimeout(r, 1000));
const latencies: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  const sentAt = Date.now();
  bus.publish('log', { ts: sentAt, level: 'info', source: 'bench', message: `probe-${i}` });
  const shownAt = await waitFor(
    () => page.evaluate((id) => (window as unknown as { seen: Record<string, number> }).seen[id], String(i)),
    `probe ${i} on the page`,
    5000,
    5,
  );
  latencies.push(shownAt - sentAt);
  await new Promise((r) => setTimeout(r, 100));
}
await browser.close();
await bus.closeConnection();
await dashboard.stop();
await nats.stop();
const s = summarize(latencies);
writeBenchSection(
  'dashboard-latency',
  'Dashboard: publish → visible',
  'pnpm bench latency',
  `A timeline entry published on NATS until it is in the page's DOM (MutationObserver in Debian's Chromium,
390×844), through the dashboard server's one NATS subscription, its memory and the page's Server-Sent Events stream. Goal: p95 ≤ 300 ms.

| samples | median ms | p95 ms | max ms |
|---|---|---|---|
| ${s.n} | ${s.median} | ${s.p95} | ${s.max} |`,
);
process.stdout.write(`publish → visible: median ${s.median} ms, p95 ${s.p95} ms, max ${s.max} ms\n`);
process.exit(0);
