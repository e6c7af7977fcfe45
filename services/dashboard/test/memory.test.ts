// The dashboard server's memory of recent events: what a newly opened page gets first, and the live
// events after it, with none missed and none twice.
import { describe, expect, it } from 'vitest';
import { validEvents } from '../../../packages/shared/test/samples.ts';
import { EventMemory, type RememberedEvent } from '../lib/memory.ts';

const stats = (ts: number) => ({ ...validEvents['ingest.stats'], ts });
const log = (ts: number, message: string) => ({ ts, level: 'info' as const, source: 'test', message });

describe('EventMemory', () => {
  it('remembers the latest state of each kind, the last 50 timeline entries and one chart sample a second for 5 minutes', () => {
    let now = 1_000_000;
    const memory = new EventMemory(() => now);
    memory.remember('obs.state', { ...validEvents['obs.state'], ts: now, streaming: true });
    memory.remember('obs.state', { ...validEvents['obs.state'], ts: now + 1, streaming: false });
    for (let i = 0; i < 60; i++) memory.remember('log', log(now + i, `entry ${i}`));
    for (let t = 0; t <= 400_000; t += 250) memory.remember('ingest.stats', stats(now + t));
    now += 400_000;
    const { events, serverNow } = memory.subscribe(() => {}).snapshot;
    expect(serverNow).toBe(now);
    const obs = events.filter((e) => e.name === 'obs.state');
    expect(obs.map((e) => (e.payload as { streaming: boolean }).streaming)).toEqual([false]);
    const logs = events.filter((e) => e.name === 'log').map((e) => (e.payload as { message: string }).message);
    expect(logs).toHaveLength(50);
    expect(logs[0]).toBe('entry 10');
    const chart = events.filter((e) => e.name === 'ingest.stats').map((e) => (e.payload as { ts: number }).ts - 1_000_000);
    expect(chart.at(-1)).toBe(400_000); // the latest sample, last
    expect(chart[0]).toBe(100_000); // 5 minutes back
    expect(chart.length).toBe(301);
  });

  it('gives a subscriber the snapshot and then exactly the events remembered after it', () => {
    const memory = new EventMemory();
    memory.remember('log', log(1, 'before'));
    const live: RememberedEvent[] = [];
    const { snapshot, unsubscribe } = memory.subscribe((event) => live.push(event));
    memory.remember('log', log(2, 'after'));
    memory.remember('obs.state', { ...validEvents['obs.state'], ts: 3 });
    expect(snapshot.events.map((e) => (e.payload as { message?: string }).message)).toEqual(['before']);
    expect(live.map((e) => e.name)).toEqual(['log', 'obs.state']);
    unsubscribe();
    memory.remember('log', log(4, 'gone'));
    expect(live).toHaveLength(2);
  });

  it('restores older timeline entries, chart samples and unknown latest state from the history without doubles', () => {
    const memory = new EventMemory(() => 2_000_000);
    memory.remember('log', log(1_900_000, 'live'));
    memory.remember('ingest.stats', stats(1_900_000));
    memory.restore([
      { name: 'log', payload: log(1_800_000, 'old') },
      { name: 'log', payload: log(1_900_000, 'live') },
      ...[0, 1000, 2000].map((t) => ({ name: 'ingest.stats' as const, payload: stats(1_890_000 + t) })),
      { name: 'obs.state', payload: { ...validEvents['obs.state'], ts: 1_800_000 } },
    ]);
    const { events } = memory.subscribe(() => {}).snapshot;
    expect(events.filter((e) => e.name === 'log').map((e) => (e.payload as { message: string }).message)).toEqual(['old', 'live']);
    expect(events.filter((e) => e.name === 'ingest.stats').map((e) => (e.payload as { ts: number }).ts)).toEqual([1_890_000, 1_891_000, 1_892_000, 1_900_000]);
    expect(events.some((e) => e.name === 'obs.state')).toBe(true);
  });
});
