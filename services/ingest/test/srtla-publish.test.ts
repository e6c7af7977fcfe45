// publishSrtla on a real nats-server: the link table on `ingest.srtla` once a second (valid against the
// shared schema), links joining and leaving as timeline entries on `log`, quiet when nobody bonds.
import { createSocket } from 'node:dgram';
import { createLogger } from '@irlkit/shared';
import { collectEvents, nextEvent, startNats, startSrtlaSender, type TestNats, testBus, waitFor } from '@irlkit/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { publishSrtla } from '../src/srtla/publish.ts';
import { SrtlaReceiver } from '../src/srtla/receiver.ts';

let nats: TestNats;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats?.stop();
});

it('publishes the link table at 1 Hz and join/leave entries on the timeline', async () => {
  const bus = await testBus(nats, 'bonded', 'ingest');
  const observer = await testBus(nats, 'bonded');
  const listener = createSocket('udp4');
  await new Promise<void>((resolve) => listener.bind(0, '127.0.0.1', () => resolve()));
  const receiver = new SrtlaReceiver({
    bindHost: '127.0.0.1',
    port: 0,
    listeners: [{ stream: 'main', host: '127.0.0.1', port: listener.address().port }],
    maxGroups: 4,
    maxLinksPerGroup: 16,
    linkTimeoutMs: 2000,
    groupTimeoutMs: 10_000,
    registrationsPerSecond: 20,
    socketBufferBytes: 1 << 20,
    log: createLogger('srtla-test', 'silent'),
  });
  await receiver.start();
  const publishing = publishSrtla(bus, receiver, createLogger('srtla-test', 'silent'));
  const tables = collectEvents(observer, 'ingest.srtla');
  const log = collectEvents(observer, 'log');
  try {
    await new Promise((r) => setTimeout(r, 1500));
    expect(tables.items).toHaveLength(0); // nobody bonds: nothing published
    const sender = await startSrtlaSender({ host: '127.0.0.1', port: receiver.boundPort }, 2, { keepalive: 'extended' });
    try {
      const table = await nextEvent(
        observer,
        'ingest.srtla',
        (t) => t.links.length === 2 && t.links.every((l) => l.rttMs !== null),
        'a table with both links and their RTT',
        5000,
      );
      expect(table.groups).toBe(1);
      expect(table.links.map((l) => l.address).sort()).toEqual(sender.links.map((l) => `${l.address}:${l.port}`).sort());
      expect(table.drops).toHaveProperty('unregistered');
      await waitFor(() => log.items.filter((e) => /^Bonded link 127\.0\.0\.[23]:\d+ joined/.test(e.message)).length === 2, 'two join entries');
      sender.cut(1);
      const left = await nextEvent(
        observer,
        'log',
        (e) => e.message.startsWith(`Bonded link 127.0.0.3:${sender.links[1]?.port} left`),
        'the cut link leaving',
        6000,
      );
      expect(left.level).toBe('warn');
      await nextEvent(observer, 'ingest.srtla', (t) => t.links.length === 1, 'a table without the cut link', 3000);
    } finally {
      await sender.stop();
    }
    // About one table a second, no more.
    const rate = tables.items.length / ((Date.now() - (tables.items[0]?.receivedAt ?? Date.now())) / 1000 + 1);
    expect(rate).toBeLessThanOrEqual(1.5);
  } finally {
    tables.stop();
    log.stop();
    publishing.stop();
    await receiver.stop();
    listener.close();
    await bus.closeConnection();
    await observer.closeConnection();
  }
});
