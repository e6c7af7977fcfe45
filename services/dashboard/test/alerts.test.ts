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

  it('alerts on a restream destination failing while the program is live, once, and says when it is back', () => {
    const r = rules();
    const kick = validEvents['restream.state'].destinations[0];
    const restream = (ts: number, status: typeof kick.status, programLive = true) => ({
      ...validEvents['restream.state'],
      ts,
      programLive,
      destinations: [
        { ...kick, status },
        { ...kick, id: 'twitch', name: 'Twitch', status: 'connected' as const, error: null },
      ],
    });
    expect(r.observe('restream.state', restream(1000, 'connected'), 1000)).toEqual([]);
    expect(r.observe('restream.state', restream(2000, 'reconnecting'), 2000)).toEqual([]);
    // Back within the grace time: no alert.
    expect(r.observe('restream.state', restream(5000, 'connected'), 5000)).toEqual([]);
    expect(r.tick(30_000)).toEqual([]);
    expect(r.observe('restream.state', restream(40_000, 'failed'), 40_000)).toEqual([]);
    // Retrying (connecting) does not reset the time it has been failing.
    expect(r.observe('restream.state', restream(45_000, 'connecting'), 45_000)).toEqual([]);
    expect(r.tick(54_999)).toEqual([]);
    const failing = r.tick(55_000);
    expect(failing.map((a) => [a.kind, a.title])).toEqual([['destination-failing', 'Destination failing']]);
    expect(failing[0]?.message).toContain(`Kick: ${kick.error} (for 15 s)`);
    expect(failing[0]?.message).not.toContain('Twitch');
    expect(r.tick(120_000)).toEqual([]);
    expect(r.observe('restream.state', restream(130_000, 'connected'), 130_000).map((a) => a.title)).toEqual(['Destination back']);
    // Nothing to say while the program is off the air.
    r.observe('restream.state', restream(140_000, 'failed', false), 140_000);
    expect(r.tick(200_000)).toEqual([]);
  });

  it('tells a second destination failing soon after the first once the minute is over, not never', () => {
    const r = rules();
    const [kick] = validEvents['restream.state'].destinations;
    const youtube = { ...kick, id: 'youtube', name: 'YouTube', error: 'no answer' };
    const restream = (ts: number, destinations: Array<typeof kick>) => ({ ...validEvents['restream.state'], ts, programLive: true, destinations });
    r.observe('restream.state', restream(0, [kick, { ...youtube, status: 'connected' }]), 0);
    expect(r.tick(15_000).map((a) => a.message)).toEqual([expect.stringContaining('Kick:')]);
    r.observe('restream.state', restream(20_000, [kick, youtube]), 20_000);
    expect(r.tick(40_000)).toEqual([]); // once a minute per kind
    const second = r.tick(75_000);
    expect(second.map((a) => a.message)).toEqual([expect.stringContaining('YouTube: no answer (for 55 s)')]);
    expect(second[0]?.message).not.toContain('Kick');
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

    // A restream destination failing while the program is live (its first failing report 20 s old): alerted, then back.
    const [kick] = validEvents['restream.state'].destinations;
    const restream = (ts: number, status: typeof kick.status) => ({
      ...validEvents['restream.state'],
      ts,
      programLive: true,
      destinations: [{ ...kick, status }],
    });
    publisher.publish('restream.state', restream(Date.now() - 20_000, 'failed'));
    await waitFor(() => receiver.received.length === 8, 'the destination-failing alert at both webhooks', 10_000);
    publisher.publish('restream.state', restream(Date.now(), 'connected'));
    await waitFor(() => receiver.received.length === 10, 'the destination-back message at both webhooks', 10_000);
    for (const path of ['/generic', '/discord']) {
      const later = receiver.received.slice(6).filter((r) => r.path === path);
      expect(later.map((r) => (path === '/generic' ? r.body.title : (r.body.embeds as Array<{ title: string }>)[0]?.title))).toEqual([
        'Destination failing',
        'Destination back',
      ]);
    }
    const failing = String(receiver.received.slice(6).find((r) => r.path === '/generic')?.body.message);
    expect(failing).toContain(`Kick: ${kick.error} (for `);
    expect(failing).toMatch(/\(for 2[01] s\)/);
    alerts.stop();
    await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
    await publisher.closeConnection();
    await follower.closeConnection();
  });
});
