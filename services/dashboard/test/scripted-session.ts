// A recorded session, as the history holds it: feed, a stall, OBS killed, a bonded link lost and back, a
// scene by hand, Stop. Shared by the report's unit test, its page's Chromium test and the history benchmark.
import { type Bus, CAPTURED_EVENTS, switcherReasons } from '@irlkit/shared';
import { validEvents } from '../../../packages/shared/test/samples.ts';
import type { HistoryRecord, HistoryStore } from '../lib/history/store.ts';

const obs = (ts: number, streaming: boolean, reachable = true, programScene = 'Live'): HistoryRecord => ({
  name: 'obs.state',
  payload: { ...validEvents['obs.state'], ts, streaming, reachable, programScene },
});
const sw = (ts: number, state: 'live' | 'low' | 'offline', since: number, reason: string, mode: 'auto' | 'manual' = 'auto'): HistoryRecord => ({
  name: 'switcher.state',
  payload: { ...validEvents['switcher.state'], ts, state, since, reason, mode },
});
const stats = (ts: number, bitrateKbps: number, connected = true): HistoryRecord => ({
  name: 'ingest.stats',
  payload: { ...validEvents['ingest.stats'], ts, bitrateKbps, connected, rttMs: 40, deltas: { received: 100, lost: 1, dropped: 0, retransmitted: 0 } },
});
const srtla = (ts: number, addresses: string[]): HistoryRecord => ({
  name: 'ingest.srtla',
  payload: {
    ...validEvents['ingest.srtla'],
    ts,
    links: addresses.map(
      (address) => ({ ...validEvents['ingest.srtla'].links[0], address, share: 1 / addresses.length, bitrateKbps: 3000 / addresses.length }) as never,
    ),
  },
});

/** A scripted session: feed, a stall, a kill of OBS, a bonded link lost and back, by-hand scene, Stop. */
export function scriptedSession(t0: number): HistoryRecord[] {
  const r: HistoryRecord[] = [
    sw(t0 - 30_000, 'offline', t0 - 40_000, switcherReasons.waitingForFeed),
    obs(t0, true),
    sw(t0 + 500, 'live', t0 + 400, 'feed back, picture moving'),
  ];
  for (let s = 0; s <= 300; s++) {
    const ts = t0 + s * 1000;
    const down = (s >= 60 && s < 90) || (s >= 120 && s < 140);
    r.push(stats(ts + 1, down ? 0 : 3000 + (s % 10) * 100, !down));
    r.push(srtla(ts + 2, s >= 150 && s < 170 ? ['10.0.0.2:4000'] : ['10.0.0.2:4000', '10.0.0.3:4000']));
  }
  r.push({ name: 'ingest.link', payload: { ...validEvents['ingest.link'], ts: t0 + 60_000, event: 'stalled' } });
  r.push(sw(t0 + 60_100, 'offline', t0 + 60_050, switcherReasons.feedLost('stalled', 'no packet for 500 ms')));
  r.push(sw(t0 + 90_100, 'live', t0 + 90_000, 'link steady again, picture moving'));
  r.push({
    name: 'process',
    payload: { ...validEvents.process, ts: t0 + 120_000, child: 'obs', event: 'exited', signal: 'SIGKILL', exitCode: null, detail: null },
  });
  r.push(obs(t0 + 120_200, false, false, 'Live'));
  r.push(obs(t0 + 134_800, true, true, 'Live'));
  r.push(obs(t0 + 200_000, true, true, 'Starting'));
  r.push(obs(t0 + 230_000, true, true, 'Live'));
  r.push(obs(t0 + 300_000, false, true, 'Live'));
  r.push({ name: 'log', payload: { ts: t0 + 300_050, level: 'info', source: 'obs-bridge', message: 'Stream stopped' } });
  return r.sort((a, b) => a.payload.ts - b.payload.ts);
}

/** Puts records into the history as the live system does: the events nats-server captures are published, the rest appended. */
export async function storeHistory(bus: Bus, store: HistoryStore, records: readonly HistoryRecord[]): Promise<void> {
  let n = 0;
  for (const record of records) {
    if ((CAPTURED_EVENTS as readonly string[]).includes(record.name)) bus.publish(record.name, record.payload as never);
    else store.append(record.name, record.payload);
    if (++n % 2000 === 0) await bus.nc.flush();
  }
  await bus.nc.flush();
}
