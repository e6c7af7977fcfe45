// Each service's NATS user, on a real nats-server with the users compose ships
// (services/nats/users.conf, generated from packages/shared/src/permissions.ts): what each service
// does works, and everything outside its allow-lists is refused — forged events, swallowed
// commands, someone else's replies, the settings bucket deleted, the stream keys read.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  BUS_USERS,
  Bus,
  type BusUser,
  composeNatsUsers,
  connectNats,
  DESTINATIONS_BUCKET,
  natsPasswordVariable,
  SESSIONS_BUCKET,
  SETTINGS_BUCKET,
  SettingsBucket,
  silentLogger,
  storedDestinations,
  switcherMode,
} from '@irlkit/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validEvents } from '../packages/shared/test/samples.ts';
import { HistoryStore } from '../services/dashboard/lib/history/store.ts';
import { SessionEpoch } from '../services/dashboard/lib/session-epoch.ts';
import { startNats, type TestNats, waitFor } from './kit/index.ts';

const usersConf = readFileSync(fileURLToPath(new URL('../services/nats/users.conf', import.meta.url)), 'utf8');
const passwords = Object.fromEntries(BUS_USERS.map((user) => [user, `${user}-test-password`])) as Record<BusUser, string>;

interface Client {
  bus: Bus;
  /** Every permissions violation the server reported to this connection. */
  violations: string[];
  close(): Promise<void>;
}

let nats: TestNats;
const clients: Client[] = [];

async function connectAs(user: BusUser): Promise<Client> {
  const nc = await connectNats({ url: nats.url, user, password: passwords[user], name: `${user}-test` }, silentLogger());
  const violations: string[] = [];
  void (async () => {
    for await (const status of nc.status()) {
      const context = (status as { permissionContext?: { operation: string; subject: string } }).permissionContext;
      if (status.type === 'error') violations.push(`${String(status.data)} ${context?.operation ?? ''} ${context?.subject ?? ''}`);
    }
  })();
  const client = { bus: new Bus(nc, 'main', silentLogger()), violations, close: () => nc.close() };
  clients.push(client);
  return client;
}

const refusedWith = (client: Client, subject: string) =>
  waitFor(() => client.violations.find((v) => v.startsWith('PERMISSIONS_VIOLATION') && v.endsWith(` ${subject}`)), `nats-server to refuse ${subject}`, 5000);

beforeAll(async () => {
  nats = await startNats({
    user: 'operator',
    password: passwords.operator,
    authorization: usersConf,
    env: Object.fromEntries(BUS_USERS.map((user) => [natsPasswordVariable(user), passwords[user]])),
  });
});
afterAll(async () => {
  for (const client of clients) await client.close().catch(() => {});
  await nats?.stop();
});

describe('NATS users', () => {
  it('the shipped users.conf is the permissions table', () => {
    expect(usersConf).toBe(composeNatsUsers());
  });

  it('let each service do its own work', async () => {
    const [ingest, bridge, desktop, restream, dashboard, operator] = await Promise.all(
      (['ingest', 'obs-bridge', 'desktop', 'restream', 'dashboard', 'operator'] as const).map(connectAs),
    );
    const seen: string[] = [];
    operator.bus.subscribe('ingest.link', () => seen.push('ingest.link'));
    operator.bus.subscribe('obs.state', () => seen.push('obs.state'));
    dashboard.bus.subscribe('restream.state', () => seen.push('restream.state'));
    await Promise.all([operator.bus.nc.flush(), dashboard.bus.nc.flush()]);
    ingest.bus.publish('ingest.link', { ...validEvents['ingest.link'], ts: Date.now() });
    bridge.bus.publish('obs.state', { ...validEvents['obs.state'], ts: Date.now() });
    restream.bus.publish('restream.state', { ...validEvents['restream.state'], ts: Date.now() });
    await waitFor(() => seen.length === 3, 'ingest.link and obs.state to reach the operator, restream.state the dashboard');
    // Commands: the dashboard asks, the bridge answers; the bridge asks, the desktop answers.
    bridge.bus.serve('stream.start', () => undefined);
    desktop.bus.serve('obs.restart', () => undefined);
    await Promise.all([bridge.bus.nc.flush(), desktop.bus.nc.flush()]);
    expect(await dashboard.bus.request('stream.start', {})).toEqual({ ok: true });
    expect(await bridge.bus.request('obs.restart', {})).toEqual({ ok: true });
    expect(await operator.bus.request('stream.start', {})).toEqual({ ok: true });
    // The dashboard hands restream a destination (its key inside); restream keeps the list in its bucket.
    restream.bus.serve('destination.save', () => undefined);
    await restream.bus.nc.flush();
    expect(await dashboard.bus.request('destination.save', { name: 'Twitch', url: 'rtmp://live.twitch.tv/app', key: 'live_secret_key' })).toEqual({ ok: true });
    const destinations = new SettingsBucket(restream.bus.nc, DESTINATIONS_BUCKET, silentLogger());
    expect(await destinations.open()).toBe(true);
    const list = destinations.setting('destinations_main', storedDestinations);
    await list.put([{ id: 'twitch', name: 'Twitch', url: 'rtmp://live.twitch.tv/app', key: 'live_secret_key', enabled: true }]);
    expect((await list.get())?.[0]?.key).toBe('live_secret_key');
    destinations.close();
    // Key-value: the bridge keeps its settings, the dashboard its session epoch.
    const settings = new SettingsBucket(bridge.bus.nc, SETTINGS_BUCKET, silentLogger());
    expect(await settings.open()).toBe(true);
    const mode = settings.setting('switcher_main_mode', switcherMode);
    await mode.put('manual');
    expect(await mode.get()).toBe('manual');
    settings.close();
    const epoch = await SessionEpoch.open(dashboard.bus.nc, SESSIONS_BUCKET, silentLogger());
    const moved = await epoch.bump();
    await waitFor(() => epoch.current() === moved, 'the epoch watch to see the bump');
    epoch.stop();
    // History: the dashboard creates its streams, records, and reads back what it and ingest published.
    const history = new HistoryStore(dashboard.bus.nc, 'main', { maxAgeMs: 3_600_000, maxBytes: { events: 1 << 20, samples: 1 << 20 } }, silentLogger());
    await history.ensureStreams();
    history.append('ingest.stats', { ...validEvents['ingest.stats'], ts: Date.now() });
    ingest.bus.publish('ingest.link', { ...validEvents['ingest.link'], ts: Date.now() });
    await dashboard.bus.nc.flush();
    await ingest.bus.nc.flush();
    await waitFor(async () => (await history.read('samples', { fromMs: 0 })).length === 1, 'the dashboard to read its recorded sample');
    await waitFor(async () => (await history.read('events', { fromMs: 0, names: ['ingest.link'] })).length === 1, 'the captured link event');
    for (const client of [ingest, bridge, desktop, restream, dashboard, operator]) expect(client.violations).toEqual([]);
  });

  it('refuse every service outside its list', async () => {
    const [ingest, bridge, desktop, restream, dashboard, operator] = await Promise.all(
      (['ingest', 'obs-bridge', 'desktop', 'restream', 'dashboard', 'operator'] as const).map(connectAs),
    );
    const arrived: string[] = [];
    for (const name of ['ingest.link', 'ingest.stats', 'obs.state', 'switcher.state'] as const) bridge.bus.subscribe(name, () => arrived.push(name));
    await bridge.bus.nc.flush();

    // The internet-facing dashboard forges the feed's events; the desktop container (OBS) forges ingest's.
    dashboard.bus.publish('ingest.link', { ...validEvents['ingest.link'], ts: Date.now() });
    await refusedWith(dashboard, 'irl.main.ingest.link');
    desktop.bus.publish('ingest.stats', { ...validEvents['ingest.stats'], ts: Date.now() });
    await refusedWith(desktop, 'irl.main.ingest.stats');
    operator.bus.publish('obs.state', { ...validEvents['obs.state'], ts: Date.now() });
    await refusedWith(operator, 'irl.main.obs.state');
    ingest.bus.publish('switcher.state', { ...validEvents['switcher.state'], ts: Date.now() });
    await refusedWith(ingest, 'irl.main.switcher.state');

    // Joining a command's queue group to swallow it.
    let answeredByBridge = 0;
    bridge.bus.serve('scene.set', () => {
      answeredByBridge += 1;
    });
    await bridge.bus.nc.flush();
    desktop.bus.serve('scene.set', () => undefined);
    await refusedWith(desktop, 'irl.main.cmd.scene.set');
    dashboard.bus.serve('stream.stop', () => undefined);
    await refusedWith(dashboard, 'irl.main.cmd.stream.stop');
    for (let i = 0; i < 5; i++) expect(await dashboard.bus.request('scene.set', { scene: 'Live' })).toEqual({ ok: true });
    expect(answeredByBridge).toBe(5);

    // Reading someone else's replies, or every command.
    ingest.bus.nc.subscribe('_INBOX_dashboard.>');
    await refusedWith(ingest, '_INBOX_dashboard.>');
    dashboard.bus.nc.subscribe('irl.main.cmd.>');
    await refusedWith(dashboard, 'irl.main.cmd.>');

    // Deleting or overwriting the bridge's settings.
    const settings = new SettingsBucket(bridge.bus.nc, SETTINGS_BUCKET, silentLogger());
    expect(await settings.open()).toBe(true);
    const mode = settings.setting('switcher_main_mode', switcherMode);
    await mode.put('auto');
    const jsm = await bridge.bus.nc.jetstreamManager();
    await expect(dashboard.bus.nc.request(`$JS.API.STREAM.DELETE.KV_${SETTINGS_BUCKET}`, undefined, { timeout: 2000 })).rejects.toThrow();
    await refusedWith(dashboard, `$JS.API.STREAM.DELETE.KV_${SETTINGS_BUCKET}`);
    dashboard.bus.nc.publish(`$KV.${SETTINGS_BUCKET}.switcher_main_mode`, new TextEncoder().encode('"manual"'));
    await refusedWith(dashboard, `$KV.${SETTINGS_BUCKET}.switcher_main_mode`);
    await expect(desktop.bus.nc.request(`$JS.API.STREAM.PURGE.KV_${SETTINGS_BUCKET}`, undefined, { timeout: 2000 })).rejects.toThrow();
    expect((await jsm.streams.info(`KV_${SETTINGS_BUCKET}`)).state.messages).toBeGreaterThan(0);
    expect(await mode.get()).toBe('auto');
    settings.close();
    // Nobody deletes or purges the history, not even the dashboard that keeps it.
    await expect(dashboard.bus.nc.request('$JS.API.STREAM.PURGE.IRLKIT_EVENTS', undefined, { timeout: 2000 })).rejects.toThrow();
    await expect(dashboard.bus.nc.request('$JS.API.STREAM.DELETE.IRLKIT_SAMPLES', undefined, { timeout: 2000 })).rejects.toThrow();
    // The stream keys: only restream reads its bucket, or hears a destination.save (the key travels in it).
    const destinations = new SettingsBucket(restream.bus.nc, DESTINATIONS_BUCKET, silentLogger());
    expect(await destinations.open()).toBe(true);
    await destinations
      .setting('destinations_main', storedDestinations)
      .put([{ id: 'kick', name: 'Kick', url: 'rtmps://kick.example/app', key: 'sk_kick_secret', enabled: true }]);
    destinations.close();
    const keyRead = `$JS.API.DIRECT.GET.KV_${DESTINATIONS_BUCKET}.$KV.${DESTINATIONS_BUCKET}.destinations_main`;
    for (const reader of [dashboard, operator, bridge]) {
      await expect(reader.bus.nc.request(keyRead, undefined, { timeout: 2000 })).rejects.toThrow();
      await refusedWith(reader, keyRead);
    }
    await expect(
      dashboard.bus.nc.request(
        `$JS.API.STREAM.MSG.GET.KV_${DESTINATIONS_BUCKET}`,
        JSON.stringify({ last_by_subj: `$KV.${DESTINATIONS_BUCKET}.destinations_main` }),
        { timeout: 2000 },
      ),
    ).rejects.toThrow();
    await refusedWith(dashboard, `$JS.API.STREAM.MSG.GET.KV_${DESTINATIONS_BUCKET}`);
    operator.bus.nc.subscribe(`$KV.${DESTINATIONS_BUCKET}.>`);
    await refusedWith(operator, `$KV.${DESTINATIONS_BUCKET}.>`);
    dashboard.bus.serve('destination.save', () => undefined);
    await refusedWith(dashboard, 'irl.main.cmd.destination.save');
    await expect(dashboard.bus.nc.request(`$JS.API.STREAM.DELETE.KV_${DESTINATIONS_BUCKET}`, undefined, { timeout: 2000 })).rejects.toThrow();
    // Even the bridge may not delete its own bucket.
    await expect(bridge.bus.nc.request(`$JS.API.STREAM.DELETE.KV_${SETTINGS_BUCKET}`, undefined, { timeout: 2000 })).rejects.toThrow();

    await bridge.bus.nc.flush();
    await new Promise((r) => setTimeout(r, 200));
    expect(arrived).toEqual([]);
  });
});
