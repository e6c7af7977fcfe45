// Alerts: the rules on a fake clock, and webhook deliveries from events on a real nats-server to a local
// HTTP receiver: in order, in Discord's and the generic shape, retried until the receiver is back from a restart.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@irlkit/shared';
import { startNats, type TestNats, testBus, waitFor } from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validEvents } from '../../../packages/shared/test/samples.ts';
import { ALERT_KINDS, AlertRules } from '../lib/alerts/rules.ts';
import { AlertService } from '../lib/alerts/service.ts';
import { webhookFormat } from '../lib/alerts/webhook.ts';

const switcher = (ts: number, state: 'live' | 'offline', since: number) => ({
  ...validEvents['switcher.state'],
  ts,
  state,
  since,
  reason: state === 'offline' ? 'feed stalled' : 'feed healthy',
});
const obs = (ts: number, streaming: boolean, reachable = true) => ({ ...validEvents['obs.state'], ts, streaming, reachable });

describe('AlertRules', () => {
  const rules = () => new AlertRules({ kinds: new Set(ALERT_KINDS), feedLostMs: 10_000, diskPercent: 90 });

  it('alerts once when the feed is lost longer than N s, and says when it is back', () => {
    const r = rules();
    expect(r.observe('switcher.state', switcher(1000, 'offline', 1000), 1000)).toEqual([]);
    expect(r.tick(10_999)).toEqual([]);
    expect(r.tick(11_000).map((a) => a.title)).toEqual(['Feed lost']);
    expect(r.tick(20_000)).toEqual([]);
    expect(r.observe('switcher.state', switcher(25_000, 'live', 25_000), 25_000).map((a) => a.message)).toEqual([expect.stringMatching(/back after 24 s/)]);
    // A short gap is no alert.
    r.observe('switcher.state', switcher(30_000, 'offline', 30_000), 30_000);
    expect(r.observe('switcher.state', switcher(35_000, 'live', 35_000), 35_000)).toEqual([]);
    expect(r.tick(50_000)).toEqual([]);
  });

  it('tells a stop by hand from one the platform caused, and OBS restarts', () => {
    const r = rules();
    r.observe('obs.state', obs(1000, true), 1000);
    r.observe('obs.state', obs(2000, false), 2000);
    const byHand = r.observe('log', { ts: 2100, level: 'info', source: 'obs-bridge', message: 'Stream stopped' }, 2100);
    expect(byHand.map((a) => [a.kind, a.message])).toEqual([['stream-stopped', 'The stream was stopped by hand.']]);
    r.observe('obs.state', obs(100_000, true), 100_000);
    r.observe('obs.state', obs(200_000, false), 200_000);
    expect(r.tick(204_000)).toEqual([]);
    expect(r.tick(205_000).map((a) => a.kind)).toEqual(['stream-stopped', 'destination-failing']);
    const crash = r.observe('process', { ...validEvents.process, ts: 300_000, child: 'obs', event: 'exited', signal: 'SIGKILL', exitCode: null }, 300_000);
    expect(crash.map((a) => a.kind)).toEqual(['obs-restarted']);
    expect(r.observe('process', { ...validEvents.process, ts: 301_000, child: 'obs', event: 'exited' }, 301_000)).toEqual([]); // not twice a minute
  });

  it('alerts when the disk crosses the threshold, and only the chosen kinds', () => {
    const r = new AlertRules({ kinds: new Set(['disk-full']), feedLostMs: 10_000, diskPercent: 90 });
    expect(r.observeDisk(85, '/', 0)).toEqual([]);
    expect(r.observeDisk(91, '/', 1).map((a) => a.kind)).toEqual(['disk-full']);
    expect(r.observeDisk(92, '/', 2)).toEqual([]);
    r.observe('switcher.state', switcher(0, 'offline', 0), 0);
    expect(r.tick(60_000)).toEqual([]);
  });

  it('knows Discord webhooks by their address', () => {
    expect(webhookFormat('https://discord.com/api/webhooks/1/abc', 'auto')).toBe('discord');
    expect(webhookFormat('https://example.com/hook', 'auto')).toBe('generic');
    expect(webhookFormat('https://example.com/hook', 'discord')).toBe('discord');
  });
});

interface Received {
  path: string;
  body: Record<string, unknown>;
}

/** A local webhook receiver that can go away and come back on the same port. */
async function startReceiver(port = 0): Promise<{ server: Server; port: number; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    let text = '';
    request.on('data', (d: Buffer) => (text += d.toString()));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body: JSON.parse(text) });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, received };
}

describe('webhook deliveries', () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(async () => nats?.stop());

  it('reach a local receiver in order, in both shapes, retried after the receiver comes back from a restart', async () => {
    let receiver = await startReceiver();
    const port = receiver.port;
    const publisher = await testBus(nats, 'main', 'publisher');
    const follower = await testBus(nats, 'main', 'dashboard');
    const alerts = new AlertService(
      follower,
      {
        targets: [
          { url: `http://127.0.0.1:${port}/generic`, format: 'generic' },
          { url: `http://127.0.0.1:${port}/discord`, format: 'discord' },
        ],
        kinds: [...ALERT_KINDS],
        feedLostMs: 2000,
        diskPercent: 100,
        diskPath: '/',
      },
      createLogger('alerts', 'silent'),
      { initialBackoffMs: 200, maxBackoffMs: 1000 },
    );
    alerts.start();
    await follower.nc.flush();
    const t0 = Date.now();
    publisher.publish('switcher.state', switcher(t0, 'offline', t0));
    await waitFor(() => receiver.received.length === 2, 'the feed-lost alert at both webhooks', 10_000);
    const generic = receiver.received.find((r) => r.path === '/generic')?.body;
    expect(generic).toMatchObject({ source: 'irlkit', streamId: 'main', kind: 'feed-lost', severity: 'critical', title: 'Feed lost' });
    const discord = receiver.received.find((r) => r.path === '/discord')?.body as { content: string; embeds: Array<{ title: string; color: number }> };
    expect(discord.content).toMatch(/Feed lost/);
    expect(discord.embeds[0]?.title).toBe('Feed lost');

    // The receiver restarts: alerts raised meanwhile wait, are retried, and arrive in the order they were raised.
    await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
    receiver.server.closeAllConnections();
    publisher.publish('switcher.state', switcher(Date.now(), 'live', Date.now()));
    publisher.publish('process', { ...validEvents.process, ts: Date.now(), child: 'obs', event: 'exited', signal: 'SIGKILL', exitCode: null, detail: null });
    publisher.publish('obs.state', obs(Date.now(), true));
    await publisher.nc.flush();
    await new Promise((r) => setTimeout(r, 300));
    publisher.publish('obs.state', obs(Date.now(), false));
    publisher.publish('log', { ts: Date.now(), level: 'info', source: 'obs-bridge', message: 'Stream stopped' });
    await waitFor(() => alerts.webhooks.deliveries.filter((d) => !d.delivered).length >= 4, 'failed attempts while the receiver is down', 10_000);
    receiver = await startReceiver(port);
    await waitFor(() => receiver.received.length === 6, 'the three alerts raised while the receiver was down, at both webhooks', 20_000);
    for (const path of ['/generic', '/discord']) {
      const titles = receiver.received
        .filter((r) => r.path === path)
        .map((r) => (path === '/generic' ? r.body.title : (r.body.embeds as Array<{ title: string }>)[0]?.title));
      expect(titles).toEqual(['Feed back', 'OBS restarted', 'Stream stopped']);
    }
    const retried = alerts.webhooks.deliveries.filter((d) => d.delivered && d.attempt > 1);
    expect(retried.length).toBeGreaterThanOrEqual(2);
    alerts.stop();
    await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
    await publisher.closeConnection();
    await follower.closeConnection();
  });
});
