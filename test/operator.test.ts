// The operator dashboard over every stream of a host, on a real nats-server with the users the native
// runner writes for IRL_STREAMS and the dashboard's production build: each stream's bridge publishes its
// own states, the operator page lists both, a Stop for one stream reaches only that stream's bridge, and
// the operator routes refuse unknown streams, strangers and a streamer's dashboard.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Bus, type CommandVerb, connectNats, natsStreamsAuthorization, PER_STREAM_USERS, type PerStreamUser, silentLogger, streamLogin } from '@irlkit/shared';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validEvents } from '../packages/shared/test/samples.ts';
import type { StreamOverview } from '../services/dashboard/lib/operator/overview.ts';
import { launchChromium, startDashboard, startNats, type TestDashboard, type TestNats, waitFor } from './kit/index.ts';

const STREAMS = ['a', 'b'] as const;
const passwordOf = (login: string) => `${login}-test-password`;
const shared = { ingest: passwordOf('ingest'), operator: passwordOf('operator') };
const artifacts = fileURLToPath(new URL('../test-artifacts/operator/', import.meta.url));

let nats: TestNats;
let operator: TestDashboard;
let streamer: TestDashboard;
const bridges = new Map<string, Bus>();
let ingest: Bus;
/** Commands each stream's bridge received, in order. */
const received: Array<{ stream: string; verb: CommandVerb }> = [];
const closers: Array<() => Promise<void>> = [];

async function connectAs(login: string, streamId: string): Promise<Bus> {
  const nc = await connectNats({ url: nats.url, user: login, password: passwordOf(login), name: `${login}-test` }, silentLogger());
  closers.push(() => nc.close());
  return new Bus(nc, streamId, silentLogger());
}

async function loginCookie(dashboard: TestDashboard, password = dashboard.password): Promise<string> {
  const response = await fetch(`${dashboard.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: dashboard.url },
    body: JSON.stringify({ password }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
}

function operatorCommand(verb: string, body: unknown, cookie?: string): Promise<Response> {
  return fetch(`${operator.url}/api/operator/commands/${verb}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: operator.url, ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
}

async function listStreams(cookie: string): Promise<StreamOverview[]> {
  const response = await fetch(`${operator.url}/api/operator/streams`, { headers: { cookie } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { streams: StreamOverview[] }).streams;
}

function publishStates(): void {
  const now = Date.now();
  const a = bridges.get('a') as Bus;
  const b = bridges.get('b') as Bus;
  a.publish('switcher.state', { ...validEvents['switcher.state'], ts: now, state: 'live', since: now - 60_000, reason: 'feed healthy' });
  a.publish('obs.state', { ...validEvents['obs.state'], ts: now, reachable: true, streaming: true });
  b.publish('switcher.state', { ...validEvents['switcher.state'], ts: now, state: 'offline', since: now - 5000, reason: 'waiting for the feed' });
  b.publish('obs.state', { ...validEvents['obs.state'], ts: now, reachable: true, streaming: true });
  // ingest serves every stream: the feed's numbers of each on its own subjects.
  new Bus(ingest.nc, 'a', silentLogger()).publish('ingest.stats', { ...validEvents['ingest.stats'], ts: now, connected: true, bitrateKbps: 4200, rttMs: 48 });
  new Bus(ingest.nc, 'b', silentLogger()).publish('ingest.stats', { ...validEvents['ingest.stats'], ts: now, connected: false, bitrateKbps: 0, rttMs: null });
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  const streams = STREAMS.map((id) => ({
    id,
    passwords: Object.fromEntries(PER_STREAM_USERS.map((user) => [user, passwordOf(streamLogin(user, id))])) as Record<PerStreamUser, string>,
  }));
  nats = await startNats({ user: 'operator', password: shared.operator, authorization: natsStreamsAuthorization(shared, streams) });
  for (const id of STREAMS) {
    const bridge = await connectAs(streamLogin('obs-bridge', id), id);
    for (const verb of ['stream.start', 'stream.stop'] as const) bridge.serve(verb, () => void received.push({ stream: id, verb }));
    bridges.set(id, bridge);
  }
  ingest = await connectAs('ingest', 'a');
  // The operator dashboard as the runner starts it: the operator's NATS user, the streams' ids, its own password.
  operator = await startDashboard(nats, {
    DASHBOARD_ROLE: 'operator',
    DASHBOARD_OPERATOR_STREAMS: STREAMS.join(','),
    NATS_USER: 'operator',
    NATS_PASSWORD: shared.operator,
  });
  // Stream a's own dashboard, as the runner starts it.
  streamer = await startDashboard(nats, {
    IRL_STREAM_ID: 'a',
    DASHBOARD_STREAM_SCOPE: 'own',
    NATS_USER: streamLogin('dashboard', 'a'),
    NATS_PASSWORD: passwordOf(streamLogin('dashboard', 'a')),
  });
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  await streamer?.stop();
  for (const close of closers) await close().catch(() => undefined);
  await nats?.stop();
});

describe('the operator dashboard', () => {
  it('lists every stream with its switcher state, feed and OBS', async () => {
    const cookie = await loginCookie(operator);
    const lines = await waitFor(
      async () => {
        publishStates();
        const streams = await listStreams(cookie);
        return streams.every((s) => s.switcher && s.obs && s.ingest) ? streams : undefined;
      },
      'the operator API to list both streams with their states',
      15_000,
      300,
    );
    expect(lines.map((s) => s.id)).toEqual(['a', 'b']);
    const [a, b] = lines as [StreamOverview, StreamOverview];
    expect(a.switcher).toMatchObject({ state: 'live' });
    expect(Date.now() - (a.switcher?.sinceMs ?? 0)).toBeGreaterThanOrEqual(60_000);
    expect(a.ingest).toEqual({ connected: true, bitrateKbps: 4200, rttMs: 48 });
    expect(a.obs).toMatchObject({ streaming: true });
    expect(b.switcher).toMatchObject({ state: 'offline' });
    expect(b.ingest).toMatchObject({ connected: false });
    expect(b.lastSeenMs).toBeGreaterThan(Date.now() - 15_000);
  });

  it("sends Stop for stream b to b's bridge only", async () => {
    const cookie = await loginCookie(operator);
    received.length = 0;
    const response = await operatorCommand('stream.stop', { stream: 'b' }, cookie);
    expect(response.status, await response.clone().text()).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toEqual([{ stream: 'b', verb: 'stream.stop' }]);
    const start = await operatorCommand('stream.start', { stream: 'a' }, cookie);
    expect(start.status).toBe(200);
    expect(received).toEqual([
      { stream: 'b', verb: 'stream.stop' },
      { stream: 'a', verb: 'stream.start' },
    ]);
  });

  it('refuses an unknown stream (400 naming the field), a missing one, and other verbs', async () => {
    const cookie = await loginCookie(operator);
    received.length = 0;
    const unknown = await operatorCommand('stream.stop', { stream: 'zed' }, cookie);
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/^stream: unknown stream "zed"/);
    const missing = await operatorCommand('stream.stop', {}, cookie);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toMatch(/^stream: /);
    expect((await operatorCommand('obs.restart', { stream: 'a' }, cookie)).status).toBe(404);
    expect(received).toEqual([]);
  });

  it('refuses strangers: no login is 401, a streamer password is refused', async () => {
    received.length = 0;
    expect((await fetch(`${operator.url}/api/operator/streams`)).status).toBe(401);
    expect((await operatorCommand('stream.stop', { stream: 'b' })).status).toBe(401);
    const forged = await fetch(`${operator.url}/api/operator/streams`, { headers: { cookie: 'irlkit_session=9999999999999.abc.def' } });
    expect(forged.status).toBe(401);
    const wrong = await fetch(`${operator.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: operator.url },
      body: JSON.stringify({ password: 'not-the-operator-password' }),
    });
    expect(wrong.status).toBe(401);
    expect(received).toEqual([]);
  });

  it("a streamer's dashboard has no operator routes, and the operator's none of a stream's", async () => {
    const cookie = await loginCookie(streamer);
    expect((await fetch(`${streamer.url}/api/operator/streams`, { headers: { cookie } })).status).toBe(404);
    const command = await fetch(`${streamer.url}/api/operator/commands/stream.stop`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: streamer.url, cookie },
      body: JSON.stringify({ stream: 'b' }),
    });
    expect(command.status).toBe(404);
    const operatorCookie = await loginCookie(operator);
    expect((await fetch(`${operator.url}/api/events`, { headers: { cookie: operatorCookie } })).status).toBe(404);
    expect(received.filter((r) => r.stream === 'b')).toEqual([]);
  });

  it('shows both streams on the page in Chromium, and Stop on b reaches b', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const page = await operator.login(browser, { width: 1280, height: 600 });
      publishStates();
      await page.getByTestId('state-a').filter({ hasText: 'Live' }).waitFor({ timeout: 10_000 });
      await page.getByTestId('state-b').filter({ hasText: 'Offline' }).waitFor({ timeout: 10_000 });
      expect(await page.getByTestId('streams').textContent()).toContain('4200 kbps');
      await page.screenshot({ path: `${artifacts}operator-1280.png`, fullPage: true });
      received.length = 0;
      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByTestId('stop-b').click();
      await page.getByTestId('reply').filter({ hasText: 'stop b: done' }).waitFor({ timeout: 10_000 });
      expect(received).toEqual([{ stream: 'b', verb: 'stream.stop' }]);
    } finally {
      await browser?.close();
    }
  });
});
