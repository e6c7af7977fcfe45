// Two streamers on one host through the native runner (`./irlkit up` with IRL_STREAMS), as a real process:
// two OBS at 240p, each sender with its own stream key goes Live on its own OBS, a killed sender puts only
// its stream on Offline, and a streamer reaches only their own stream: the other dashboard refuses their
// password and their session cookie (HTTP), and their dashboard's NATS user is refused the other stream's
// subjects (NATS). The operator dashboard lists both streams with their states and takes only its own password.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bus, connectNats, type SwitcherState, silentLogger, streamLogin } from '@irlkit/shared';
import { expect, it } from 'vitest';
import type { StreamOverview } from '../services/dashboard/lib/operator/overview.ts';
import { freeTcpPort, portsEnv, runnerPorts, SMALL_STREAMS_ENV, startReconnectingFeed, startRunner, waitFor } from './kit/index.ts';

it('two streamers through ./irlkit up: each Live on its own OBS, a killed sender takes only its own stream Offline, and neither reaches the other (HTTP and NATS)', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'irlkit-streams-'));
  const ports = await runnerPorts();
  const operatorPort = await freeTcpPort();
  const streams = [
    { id: 'alice', srtKey: `alice-${Math.random().toString(36).slice(2, 10)}`, dashboardPassword: 'alice-own-password' },
    { id: 'bob', srtKey: `bob-${Math.random().toString(36).slice(2, 10)}` },
  ];
  const runner = startRunner({
    ...portsEnv(ports),
    OPERATOR_DASHBOARD_PORT: String(operatorPort),
    IRL_STATE_DIR: stateDir,
    IRL_PUBLIC_HOST: '127.0.0.1',
    IRL_ENV_FILE: '/nonexistent',
    IRL_STREAMS: JSON.stringify(streams),
    ...SMALL_STREAMS_ENV,
  });
  const out = () => runner.output();
  // The senders are up before the runner: like phones, they call again until ingest answers (one ffmpeg call
  // gives up after 3 s, less than a cold first start of the runner may take).
  const feeds = streams.map((s, i) =>
    startReconnectingFeed({
      port: ports.SRT_PORT,
      streamId: `live_${s.srtKey}`,
      latencyMs: 500,
      bitrateKbps: 600,
      width: 426,
      height: 240,
      ...(i ? { scene: 'noisy-still' as const } : {}),
    }),
  );
  try {
    await runner.explain(async () => {
      await waitFor(() => out().includes('irlkit is running'), 'the runner to print that it is running', 90_000);
      const secrets = readFileSync(join(stateDir, 'secrets.env'), 'utf8');
      const bobPassword = /^STREAM_bob_DASHBOARD_PASSWORD=(\S+)/m.exec(secrets)?.[1] as string;
      expect(bobPassword, 'a generated password for bob').toBeTruthy();
      expect(secrets, "alice's own password is not stored").not.toMatch(/STREAM_alice_DASHBOARD_PASSWORD/);
      expect(out()).toContain(`Stream alice: dashboard http://127.0.0.1:${ports.DASHBOARD_PORT} (password alice-own-password)`);
      expect(out()).toContain(`Stream bob: dashboard http://127.0.0.1:${ports.DASHBOARD_PORT + 1} (password ${bobPassword})`);
      const operatorDashboardPassword = /^OPERATOR_DASHBOARD_PASSWORD=(\S+)/m.exec(secrets)?.[1] as string;
      expect(operatorDashboardPassword, 'a generated operator dashboard password').toBeTruthy();
      expect(out()).toContain(`Operator   http://127.0.0.1:${operatorPort}   every stream, password: ${operatorDashboardPassword}`);

      // The operator's NATS user follows both streams.
      const operatorPassword = /NATS_OPERATOR_PASSWORD=(\S+)/.exec(secrets)?.[1];
      const nc = await connectNats(
        { url: `nats://127.0.0.1:${ports.NATS_PORT}`, user: 'operator', password: operatorPassword, name: 'streams-test' },
        silentLogger(),
      );
      const states = new Map<string, SwitcherState>();
      for (const s of streams) new Bus(nc, s.id, silentLogger()).subscribe('switcher.state', (state) => states.set(s.id, state));
      await waitFor(
        () => streams.every((s) => states.get(s.id)?.state === 'live'),
        () => `both streams Live (${[...states].map(([id, s]) => `${id} ${s.state}: ${s.reason}`).join('; ')})`,
        150_000,
        500,
      );

      // alice's sender dies: alice goes Offline, bob stays Live.
      await feeds[0]?.kill9();
      const killedAt = Date.now();
      await waitFor(() => states.get('alice')?.state === 'offline', "alice's stream to go Offline", 20_000, 100);
      process.stdout.write(`two streamers: alice Offline ${Date.now() - killedAt} ms after her sender was killed\n`);
      await new Promise((r) => setTimeout(r, 3000));
      expect(states.get('bob')?.state, "bob's stream").toBe('live');
      expect((states.get('bob')?.since ?? Number.POSITIVE_INFINITY) < killedAt, 'bob Live since before the kill').toBe(true);
      await nc.close();

      // HTTP: bob's password opens bob's dashboard only; bob's session is refused by alice's dashboard.
      const dashboard = (id: string) => `http://127.0.0.1:${ports.DASHBOARD_PORT + streams.findIndex((s) => s.id === id)}`;
      for (const id of ['alice', 'bob'])
        await waitFor(async () => (await fetch(`${dashboard(id)}/login`).catch(() => undefined))?.ok, `${id}'s dashboard to answer`, 90_000, 500);
      const login = (id: string, password: string) =>
        fetch(`${dashboard(id)}/api/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: dashboard(id) },
          body: JSON.stringify({ password }),
        });
      const bobLogin = await login('bob', bobPassword);
      expect(bobLogin.status).toBe(200);
      const bobCookie = (bobLogin.headers.get('set-cookie') ?? '').split(';')[0] as string;
      expect(bobCookie).toMatch(/^irlkit_session_bob=/);
      expect((await login('alice', bobPassword)).status, "bob's password on alice's dashboard").toBe(401);
      expect((await fetch(`${dashboard('bob')}/api/events`, { headers: { cookie: bobCookie } })).status).toBe(200);
      // The same token under alice's cookie name too: signed with bob's keys, so alice's dashboard refuses it.
      const token = bobCookie.slice(bobCookie.indexOf('=') + 1);
      for (const cookie of [bobCookie, `irlkit_session_alice=${token}`, `irlkit_session=${token}`]) {
        const answer = await fetch(`${dashboard('alice')}/api/events`, { headers: { cookie } });
        expect(answer.status, `alice's events with ${cookie.slice(0, cookie.indexOf('='))} of bob's`).toBe(401);
        await answer.body?.cancel();
      }

      // The operator dashboard: bob's password refused; the operator's lists alice Offline and bob Live.
      const operatorUrl = `http://127.0.0.1:${operatorPort}`;
      await waitFor(async () => (await fetch(`${operatorUrl}/login`).catch(() => undefined))?.ok, 'the operator dashboard to answer', 90_000, 500);
      const operatorLogin = (password: string) =>
        fetch(`${operatorUrl}/api/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: operatorUrl },
          body: JSON.stringify({ password }),
        });
      expect((await operatorLogin(bobPassword)).status, "bob's password on the operator dashboard").toBe(401);
      const operatorSession = await operatorLogin(operatorDashboardPassword);
      expect(operatorSession.status).toBe(200);
      const operatorCookie = (operatorSession.headers.get('set-cookie') ?? '').split(';')[0] as string;
      expect((await fetch(`${operatorUrl}/api/operator/streams`, { headers: { cookie: bobCookie } })).status).toBe(401);
      const overview = await waitFor(
        async () => {
          const body = (await (await fetch(`${operatorUrl}/api/operator/streams`, { headers: { cookie: operatorCookie } })).json()) as {
            streams: StreamOverview[];
          };
          const state = (id: string) => body.streams.find((s) => s.id === id)?.switcher?.state;
          return state('alice') === 'offline' && state('bob') === 'live' ? body.streams : undefined;
        },
        'the operator dashboard to list alice Offline and bob Live',
        15_000,
        500,
      );
      expect(overview.map((s) => s.id)).toEqual(['alice', 'bob']);
      expect(overview.find((s) => s.id === 'bob')?.ingest?.connected).toBe(true);

      // NATS: bob's dashboard's user (its password from the runner's nats.conf) is refused alice's subjects.
      const natsConf = readFileSync(join(stateDir, 'nats.conf'), 'utf8');
      const login_ = streamLogin('dashboard', 'bob');
      const password = new RegExp(`user: "${login_}", password: "([^"]+)"`).exec(natsConf)?.[1];
      expect(password, `${login_} in nats.conf`).toBeTruthy();
      const bobNats = await connectNats({ url: `nats://127.0.0.1:${ports.NATS_PORT}`, user: login_, password, name: 'bob-dashboard-test' }, silentLogger());
      const violations: string[] = [];
      void (async () => {
        for await (const status of bobNats.status()) if (status.type === 'error') violations.push(String(status.data));
      })();
      bobNats.subscribe('irl.alice.switcher.state');
      const refused = await new Bus(bobNats, 'alice', silentLogger()).request('stream.stop', {}, 2000);
      expect(refused.ok).toBe(false);
      await waitFor(() => violations.some((v) => /PERMISSIONS_VIOLATION/.test(v)), "nats-server to refuse alice's subjects to bob", 5000);
      let bobHeard = false;
      new Bus(bobNats, 'bob', silentLogger()).subscribe('switcher.state', () => {
        bobHeard = true;
      });
      await waitFor(() => bobHeard, "bob's own switcher state to reach bob's user", 5000);
      await bobNats.close();
    });
  } finally {
    await Promise.all(feeds.map((f) => f.stop()));
    expect(await runner.stop()).toBe(0);
  }
  expect(out()).toContain('irlkit: stopped');
  expect(spawnSync('pgrep', ['-f', stateDir], { encoding: 'utf8' }).stdout.trim()).toBe('');
}, 400_000);
