// The sessions and reports the dashboard serves, read from the history store.
import type { EventPayload } from '@irlkit/shared';
import { buildReport, findSessions, type SessionReport, type StreamSession } from './report';
import type { HistoryStore } from './store';

/** Events this long before a session tell the state it started in (the switcher's once-a-minute heartbeat). */
const LEAD_IN_MS = 2 * 60_000;

export async function listSessions(store: HistoryStore, now = Date.now()): Promise<StreamSession[]> {
  const obs = await store.read('events', { fromMs: 0, names: ['obs.state'] });
  return findSessions(obs as unknown as Array<{ payload: EventPayload<'obs.state'> }>, now).reverse();
}

export async function sessionReport(store: HistoryStore, id: string, now = Date.now()): Promise<SessionReport | undefined> {
  const session = (await listSessions(store, now)).find((s) => s.id === id);
  if (!session) return undefined;
  const toMs = (session.endTs ?? now) + 1000;
  const [events, samples] = await Promise.all([
    store.read('events', { fromMs: session.startTs - LEAD_IN_MS, toMs }),
    store.read('samples', { fromMs: session.startTs - 1000, toMs }),
  ]);
  const records = [...events, ...samples].sort((a, b) => a.payload.ts - b.payload.ts);
  return buildReport(session, records, now);
}
