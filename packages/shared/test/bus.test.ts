// The typed bus against a real nats-server: validation, rejection counters, commands, reconnect, KV.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextEvent, startNats, type TestNats, testBus, waitFor } from '../../../test/kit/index.ts';
import { DEFAULT_SWITCHER_SETTINGS, EVENT_NAMES, SettingsBucket, silentLogger, subjects, switcherSettings } from '../src/index.ts';
import { validEvents } from './samples.ts';

let nats: TestNats;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats?.stop();
});

describe('Bus', () => {
  it('delivers a valid event and refuses to publish an invalid one', async () => {
    const bus = await testBus(nats);
    try {
      const got = nextEvent(bus, 'log', (e) => e.message === 'hello', 'the log entry');
      await bus.nc.flush();
      bus.publish('log', { ts: Date.now(), level: 'info', source: 'test', message: 'hello' });
      expect((await got).source).toBe('test');
      expect(bus.publish('log', { ts: -1, level: 'info', source: 'x', message: 'y' })).toBe(false);
      expect(bus.refusedPublishes.get('log')).toBe(1);
    } finally {
      await bus.closeConnection();
    }
  });

  it('survives a bad payload on every subject, counts it, and still gets the next good one', async () => {
    const bus = await testBus(nats);
    const raw = await testBus(nats, 'main', 'raw');
    try {
      for (const name of EVENT_NAMES) {
        const received: unknown[] = [];
        bus.subscribe(name, (p) => received.push(p));
        await bus.nc.flush();
        const subject = subjects.event('main', name);
        const before = bus.rejections.bySubject.get(subject) ?? 0;
        raw.nc.publish(subject, new TextEncoder().encode('{not json'));
        raw.nc.publish(subject, new TextEncoder().encode(JSON.stringify({ ts: 'yesterday' })));
        raw.nc.publish(subject, new TextEncoder().encode(JSON.stringify({ ...validEvents[name], junk: true })));
        raw.publish(name, validEvents[name] as never);
        await waitFor(() => received.length === 1, `the valid ${name} after three bad ones`);
        expect(bus.rejections.bySubject.get(subject)).toBe(before + 3);
      }
    } finally {
      await bus.closeConnection();
      await raw.closeConnection();
    }
  });

  it('sends a command again while no service listens, so one that subscribes within the timeout answers it', async () => {
    const asker = await testBus(nats);
    const server = await testBus(nats);
    try {
      const reply = asker.request('switcher.mode', { mode: 'manual' }, 3000);
      await new Promise((r) => setTimeout(r, 500)); // the service is still reconnecting
      server.serve('switcher.mode', () => undefined);
      expect(await reply).toEqual({ ok: true });
    } finally {
      await asker.closeConnection();
      await server.closeConnection();
    }
  });

  it('gets the answer to a command sent while its own connection is reconnecting after nats-server restarted', async () => {
    const asker = await testBus(nats);
    let server = await testBus(nats, 'main', 'server');
    try {
      server.serve('switcher.mode', () => undefined);
      await server.nc.flush();
      // An earlier command: its reply subscription is the one that has to come back after the restart.
      expect(await asker.request('switcher.mode', { mode: 'manual' }, 3000)).toEqual({ ok: true });
      await nats.restart();
      await server.closeConnection();
      server = await testBus(nats, 'main', 'server-again');
      server.serve('switcher.mode', () => undefined);
      await server.nc.flush();
      expect(await asker.request('switcher.mode', { mode: 'auto' }, 5000)).toEqual({ ok: true });
    } finally {
      await asker.closeConnection();
      await server.closeConnection();
    }
  });

  it('answers commands, validates requests, and times out clearly with no responder', async () => {
    const bus = await testBus(nats);
    try {
      const none = await bus.request('stream.start', {}, 300);
      expect(none.ok).toBe(false);
      expect(!none.ok && none.error).toMatch(/no service answers stream.start|no reply/);

      bus.serve('scene.set', async ({ scene }) => {
        if (scene !== 'Live') throw new Error(`no scene named ${scene}`);
      });
      await bus.nc.flush();
      expect(await bus.request('scene.set', { scene: 'Live' })).toEqual({ ok: true });
      expect(await bus.request('scene.set', { scene: 'Nope' })).toEqual({ ok: false, error: 'no scene named Nope' });
      const invalid = await bus.request('scene.set', { scene: 42 } as never);
      expect(invalid.ok).toBe(false);
      expect(!invalid.ok && invalid.error).toMatch(/invalid scene.set request: scene/);
    } finally {
      await bus.closeConnection();
    }
  });

  it('reconnects after nats-server restarts and delivers the next publish', async () => {
    const publisher = await testBus(nats, 'main', 'publisher');
    const subscriber = await testBus(nats, 'main', 'subscriber');
    try {
      // The subscription exists before the restart: it must survive the reconnect.
      let arrived = false;
      subscriber.subscribe('log', (e) => {
        if (e.message === 'after restart') arrived = true;
      });
      await subscriber.nc.flush();
      await nats.restart();
      await waitFor(() => publisher.nc.isClosed() === false && subscriber.nc.isClosed() === false, 'clients to stay open');
      await waitFor(
        async () => {
          publisher.publish('log', { ts: Date.now(), level: 'info', source: 'test', message: 'after restart' });
          return arrived;
        },
        'a publish after the server restart to arrive',
        20_000,
        250,
      );
    } finally {
      await publisher.closeConnection();
      await subscriber.closeConnection();
    }
  });

  it('keeps settings in JetStream KV across connections', async () => {
    const a = await testBus(nats);
    const bucketA = new SettingsBucket(a.nc, 'irlkit_test', silentLogger());
    expect(await bucketA.open()).toBe(true);
    const setting = bucketA.setting('switcher', switcherSettings);
    expect(await setting.get()).toBeUndefined();
    await setting.put({ ...DEFAULT_SWITCHER_SETTINGS, lowEnterKbps: 321 });
    bucketA.close();
    await a.closeConnection();
    const b = await testBus(nats);
    const bucketB = new SettingsBucket(b.nc, 'irlkit_test', silentLogger());
    await bucketB.open();
    const again = bucketB.setting('switcher', switcherSettings);
    expect((await again.get())?.lowEnterKbps).toBe(321);
    bucketB.close();
    await b.closeConnection();
  });
});
