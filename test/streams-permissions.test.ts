// Several streamers on one host, on a real nats-server with the users the native runner writes for
// IRL_STREAMS (natsStreamsAuthorization): each stream's desktop, obs-bridge and dashboard log in as
// `<service>@<stream>` and do their own work on their own stream; another streamer's events, commands,
// switcher settings, session epoch and history are refused to them. ingest and the operator serve every stream.
import {
  Bus,
  connectNats,
  historyStreams,
  natsStreamsAuthorization,
  PER_STREAM_USERS,
  type PerStreamUser,
  SettingsBucket,
  silentLogger,
  streamLogin,
  streamScope,
  switcherMode,
} from '@irlkit/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validEvents } from '../packages/shared/test/samples.ts';
import { HistoryStore } from '../services/dashboard/lib/history/store.ts';
import { SessionEpoch } from '../services/dashboard/lib/session-epoch.ts';
import { startNats, type TestNats, waitFor } from './kit/index.ts';

const STREAMS = ['alice', 'bob'] as const;
type StreamId = (typeof STREAMS)[number];
const passwordOf = (login: string) => `${login}-test-password`;
const shared = { ingest: passwordOf('ingest'), operator: passwordOf('operator') };
const LIMITS = { maxAgeMs: 3_600_000, maxBytes: { events: 1 << 20, samples: 1 << 20 } };

interface Client {
  bus: Bus;
  violations: string[];
}
let nats: TestNats;
const closers: Array<() => Promise<void>> = [];

async function connectAs(login: string, streamId: string): Promise<Client> {
  const nc = await connectNats({ url: nats.url, user: login, password: passwordOf(login), name: `${login}-test` }, silentLogger());
  const violations: string[] = [];
  void (async () => {
    for await (const status of nc.status()) {
      const context = (status as { permissionContext?: { operation: string; subject: string } }).permissionContext;
      if (status.type === 'error') violations.push(`${String(status.data)} ${context?.operation ?? ''} ${context?.subject ?? ''}`);
    }
  })();
  closers.push(() => nc.close());
  return { bus: new Bus(nc, streamId, silentLogger()), violations };
}
const as = (user: PerStreamUser, stream: StreamId) => connectAs(streamLogin(user, stream), stream);
const refusedWith = (client: Client, subject: string) =>
  waitFor(() => client.violations.find((v) => v.startsWith('PERMISSIONS_VIOLATION') && v.endsWith(` ${subject}`)), `nats-server to refuse ${subject}`, 5000);

beforeAll(async () => {
  const streams = STREAMS.map((id) => ({
    id,
    passwords: Object.fromEntries(PER_STREAM_USERS.map((user) => [user, passwordOf(streamLogin(user, id))])) as Record<PerStreamUser, string>,
  }));
  nats = await startNats({ user: 'operator', password: shared.operator, authorization: natsStreamsAuthorization(shared, streams) });
});
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await nats?.stop();
});

describe('several streamers on one host: NATS users per stream', () => {
  it("each stream's services do their own work on their own stream; ingest and the operator serve both", async () => {
    const ingest = await connectAs('ingest', 'alice');
    const ingestBob = new Bus(ingest.bus.nc, 'bob', silentLogger());
    const operator = await connectAs('operator', 'bob');
    const bridge = await as('obs-bridge', 'bob');
    const desktop = await as('desktop', 'bob');
    const dashboard = await as('dashboard', 'bob');
    const seen: string[] = [];
    dashboard.bus.subscribe('ingest.link', () => seen.push('dashboard: ingest.link'));
    bridge.bus.subscribe('ingest.link', () => seen.push('bridge: ingest.link'));
    operator.bus.subscribe('obs.state', () => seen.push('operator: obs.state'));
    await Promise.all([dashboard, bridge, operator].map((c) => c.bus.nc.flush()));
    ingestBob.publish('ingest.link', { ...validEvents['ingest.link'], ts: Date.now() });
    ingest.bus.publish('ingest.link', { ...validEvents['ingest.link'], ts: Date.now() }); // alice's: nobody of bob's hears it
    bridge.bus.publish('obs.state', { ...validEvents['obs.state'], ts: Date.now() });
    await waitFor(() => seen.length >= 3, `bob's events to reach bob's services (${seen.join(', ')})`);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.sort()).toEqual(['bridge: ingest.link', 'dashboard: ingest.link', 'operator: obs.state']);
    // Commands within the stream: the dashboard asks bob's bridge, the bridge asks bob's desktop.
    bridge.bus.serve('stream.start', () => undefined);
    desktop.bus.serve('obs.restart', () => undefined);
    await Promise.all([bridge.bus.nc.flush(), desktop.bus.nc.flush()]);
    expect(await dashboard.bus.request('stream.start', {})).toEqual({ ok: true });
    expect(await bridge.bus.request('obs.restart', {})).toEqual({ ok: true });
    // Its own settings, session epoch and history.
    const settings = new SettingsBucket(bridge.bus.nc, streamScope('bob').settingsBucket, silentLogger());
    expect(await settings.open()).toBe(true);
    await settings.setting('switcher_bob_mode', switcherMode).put('manual');
    settings.close();
    const epoch = await SessionEpoch.open(dashboard.bus.nc, streamScope('bob').sessionsBucket, silentLogger());
    await epoch.bump();
    epoch.stop();
    const history = new HistoryStore(dashboard.bus.nc, 'bob', LIMITS, silentLogger(), 5000, historyStreams('bob'));
    await history.ensureStreams();
    history.append('ingest.stats', { ...validEvents['ingest.stats'], ts: Date.now() });
    ingestBob.publish('ingest.link', { ...validEvents['ingest.link'], ts: Date.now() });
    await waitFor(async () => (await history.read('samples', { fromMs: 0 })).length === 1, "bob's recorded sample read back");
    await waitFor(async () => (await history.read('events', { fromMs: 0, names: ['ingest.link'] })).length >= 1, "bob's captured link event");
    for (const client of [ingest, operator, bridge, desktop, dashboard]) expect(client.violations).toEqual([]);
  });

  it("refuses another streamer's events, commands, settings, session epoch and history", async () => {
    // alice's stream keeps its own state first.
    const aliceBridge = await as('obs-bridge', 'alice');
    const aliceDashboard = await as('dashboard', 'alice');
    const aliceSettings = new SettingsBucket(aliceBridge.bus.nc, streamScope('alice').settingsBucket, silentLogger());
    expect(await aliceSettings.open()).toBe(true);
    await aliceSettings.setting('switcher_alice_mode', switcherMode).put('auto');
    aliceSettings.close();
    await new HistoryStore(aliceDashboard.bus.nc, 'alice', LIMITS, silentLogger(), 5000, historyStreams('alice')).ensureStreams();

    const bobDashboard = await as('dashboard', 'bob');
    const bobBridge = await as('obs-bridge', 'bob');
    const bobDesktop = await as('desktop', 'bob');
    const onAlice = (client: Client) => new Bus(client.bus.nc, 'alice', silentLogger());
    // Watching alice's stream.
    onAlice(bobDashboard).subscribe('obs.state', () => undefined);
    await refusedWith(bobDashboard, 'irl.alice.obs.state');
    bobDashboard.bus.nc.subscribe('irl.*.obs.state');
    await refusedWith(bobDashboard, 'irl.*.obs.state');
    // Commanding it, or answering its commands.
    onAlice(bobDashboard).publish('dashboard.viewers', { ...validEvents['dashboard.viewers'], ts: Date.now() });
    await refusedWith(bobDashboard, 'irl.alice.dashboard.viewers');
    const refused = await onAlice(bobDashboard).request('stream.stop', {}, 1500);
    expect(refused).toMatchObject({ ok: false, error: expect.stringMatching(/Permissions Violation for Publish to "irl\.alice\.cmd\.stream\.stop"/) });
    onAlice(bobBridge).serve('stream.stop', () => undefined);
    await refusedWith(bobBridge, 'irl.alice.cmd.stream.stop');
    onAlice(bobDesktop).serve('obs.restart', () => undefined);
    await refusedWith(bobDesktop, 'irl.alice.cmd.obs.restart');
    // Forging alice's switcher state, or reading alice's replies.
    onAlice(bobBridge).publish('switcher.state', { ...validEvents['switcher.state'], ts: Date.now() });
    await refusedWith(bobBridge, 'irl.alice.switcher.state');
    bobBridge.bus.nc.subscribe('_INBOX_dashboard_alice.>');
    await refusedWith(bobBridge, '_INBOX_dashboard_alice.>');
    // alice's switcher settings, session epoch and history, and the every-stream ones.
    const settings = streamScope('alice').settingsBucket;
    await expect(bobBridge.bus.nc.request(`$JS.API.STREAM.INFO.KV_${settings}`, undefined, { timeout: 1500 })).rejects.toThrow();
    await refusedWith(bobBridge, `$JS.API.STREAM.INFO.KV_${settings}`);
    bobBridge.bus.nc.publish(`$KV.${settings}.switcher_alice_mode`, new TextEncoder().encode('"manual"'));
    await refusedWith(bobBridge, `$KV.${settings}.switcher_alice_mode`);
    await expect(SessionEpoch.open(bobDashboard.bus.nc, streamScope('alice').sessionsBucket, silentLogger())).rejects.toThrow();
    for (const stream of [historyStreams('alice').events.name, historyStreams('alice').samples.name, historyStreams().events.name]) {
      await expect(
        bobDashboard.bus.nc.request(`$JS.API.CONSUMER.CREATE.${stream}`, JSON.stringify({ stream_name: stream, config: {} }), { timeout: 1500 }),
      ).rejects.toThrow();
      await refusedWith(bobDashboard, `$JS.API.CONSUMER.CREATE.${stream}`);
    }
    await expect(
      new HistoryStore(bobDashboard.bus.nc, 'alice', LIMITS, silentLogger(), 1500, historyStreams('alice')).read('events', { fromMs: 0 }),
    ).rejects.toThrow(/Permissions Violation/);
    // alice's state is as alice left it.
    const check = new SettingsBucket(aliceBridge.bus.nc, settings, silentLogger());
    expect(await check.open()).toBe(true);
    expect(await check.setting('switcher_alice_mode', switcherMode).get()).toBe('auto');
    check.close();
    expect(aliceBridge.violations).toEqual([]);
  });
});
