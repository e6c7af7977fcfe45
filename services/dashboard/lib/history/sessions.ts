// The sessions and reports the dashboard serves, read from the history store. The session list is kept up to
// date from the OBS states recorded since the last look: with a dashboard up for weeks, the history holds an
// OBS heartbeat a minute (130 000 in 90 days, about 10 s to read), which no request should wait for.
import type { EventPayload } from '@irlkit/shared';
import { buildReport, SessionFinder, type SessionReport, type StreamSession } from './report';
import type { HistoryStore } from './store';

/** Events this long before a session tell the state it started in (the switcher's once-a-minute heartbeat). */
const LEAD_IN_MS = 2 * 60_000;

export class SessionIndex {
  private finder = new SessionFinder();
  /** The events stream's sequence read up to. */
  private readSeq = 0;
  private reading: Promise<void> | undefined;

  constructor(private readonly store: HistoryStore) {}

  /** The sessions, newest first. */
  async list(now = Date.now()): Promise<StreamSession[]> {
    await this.refresh();
    // Gone with the age limit. (One whose records went by the size limit stays listed, its report showing what is left.)
    this.finder.forgetEndedBefore(now - this.store.limits.maxAgeMs);
    return this.finder.sessions(now).reverse();
  }

  async report(id: string, now = Date.now()): Promise<SessionReport | undefined> {
    const session = (await this.list(now)).find((s) => s.id === id);
    if (!session) return undefined;
    const toMs = (session.endTs ?? now) + 1000;
    const [events, samples] = await Promise.all([
      this.store.read('events', { fromMs: session.startTs - LEAD_IN_MS, toMs }),
      this.store.read('samples', { fromMs: session.startTs - 1000, toMs }),
    ]);
    const records = [...events, ...samples].sort((a, b) => a.payload.ts - b.payload.ts);
    return buildReport(session, records, now);
  }

  /** Reads the OBS states recorded since the last look (one read at a time; callers meanwhile share it). */
  refresh(): Promise<void> {
    this.reading ??= this.readNew().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async readNew(): Promise<void> {
    let read = await this.store.readAfter('events', this.readSeq, ['obs.state']);
    if (read.lastSeq < this.readSeq) {
      // The stream was made anew: start over.
      this.finder = new SessionFinder();
      read = await this.store.readAfter('events', 0, ['obs.state']);
    }
    for (const record of read.records) this.finder.add(record.payload as EventPayload<'obs.state'>);
    this.readSeq = read.lastSeq;
  }
}
