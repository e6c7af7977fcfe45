// The dashboard server's one NATS connection, shared by every request of this process, and what
// hangs off it: the memory of recent events, the history and its sessions, and the session epoch.
import { setTimeout as sleep } from 'node:timers/promises';
import { Bus, connectNats, createLogger, historyStreams } from '@irlkit/shared';
import { config } from './config';
import { HistoryRecorder } from './history/recorder';
import { SessionIndex } from './history/sessions';
import { HistoryStore } from './history/store';
import { EventMemory } from './memory';
import { StreamsOverview } from './operator/overview';
import { SessionEpoch } from './session-epoch';

const log = createLogger('dashboard');
const cache = globalThis as unknown as {
  irlkitBus?: Promise<Bus>;
  irlkitMemory?: EventMemory;
  irlkitEpoch?: Promise<SessionEpoch>;
  irlkitHistory?: { store: HistoryStore; recorder: HistoryRecorder; sessions: SessionIndex };
  irlkitOverview?: StreamsOverview;
};

/** How much of the history a restarted server puts back into its memory. */
const RESTORE_TIMELINE_MESSAGES = 2000;
const RESTORE_CHART_MS = 5 * 60_000;

/** Recent events of the stream, followed from the moment the server's NATS connection exists. */
export function memory(): EventMemory {
  cache.irlkitMemory ??= new EventMemory();
  return cache.irlkitMemory;
}

export function bus(): Promise<Bus> {
  cache.irlkitBus ??= (async () => {
    const c = config().common;
    log.level = c.logLevel;
    const nc = await connectNats({ ...c.nats, name: 'dashboard' }, log);
    const b = new Bus(nc, c.streamId, log);
    if (config().role === 'operator') {
      // Every stream's overview; the operator's NATS user keeps no history and no session epoch.
      overview().follow(nc, log);
      return b;
    }
    memory().follow(b);
    const { historyOf } = config().scope;
    const store = new HistoryStore(nc, c.streamId, config().history, log, undefined, historyStreams(historyOf), c.nats.jetstreamReplicas);
    const recorder = new HistoryRecorder(b, store, log);
    const sessions = new SessionIndex(store);
    cache.irlkitHistory = { store, recorder, sessions };
    recorder.start();
    // The opening picture after a restart: what the history holds from before this process (not awaited:
    // the page opens at once and the history joins when JetStream answers). Then the session list, read
    // once in full here rather than by the first request for it.
    void recorder.ready.then(async () => {
      await restoreMemory(store);
      await sessions.refresh().catch((error: unknown) => log.warn({ err: (error as Error).message }, 'sessions not read yet: the first request reads them'));
    });
    return b;
  })().catch((error) => {
    cache.irlkitBus = undefined;
    throw error;
  });
  return cache.irlkitBus;
}

async function restoreMemory(store: HistoryStore): Promise<void> {
  try {
    const [events, samples] = await Promise.all([
      store.read('events', { lastMessages: RESTORE_TIMELINE_MESSAGES }),
      store.read('samples', { fromMs: Date.now() - RESTORE_CHART_MS }),
    ]);
    memory().restore([...samples, ...events].sort((a, b) => a.payload.ts - b.payload.ts));
    log.info({ events: events.length, samples: samples.length }, 'opening picture restored from the history');
  } catch (error) {
    log.warn({ err: (error as Error).message }, 'history not read: the page starts from live events only');
  }
}

/** Every stream's latest state (operator role), followed from the moment the server's NATS connection exists. */
export function overview(): StreamsOverview {
  cache.irlkitOverview ??= new StreamsOverview(config().operator.streams);
  return cache.irlkitOverview;
}

/** Sends a command to one stream (operator role: `irl.<streamId>.cmd.<verb>`) on the server's connection. */
export async function streamBus(streamId: string): Promise<Bus> {
  const b = await bus();
  return streamId === b.streamId ? b : new Bus(b.nc, streamId, log);
}

/** The stream sessions in the history, once the server's NATS connection exists. */
export async function sessions(): Promise<SessionIndex> {
  await bus();
  return (cache.irlkitHistory as { sessions: SessionIndex }).sessions;
}

/** The session epoch, followed in NATS KV once the connection exists. */
export function sessionEpoch(): Promise<SessionEpoch> {
  cache.irlkitEpoch ??= (async () => SessionEpoch.open((await bus()).nc, config().scope.sessionsBucket, log, config().common.nats.jetstreamReplicas))().catch(
    (error) => {
      cache.irlkitEpoch = undefined;
      log.error({ err: error }, 'cannot read the session epoch from NATS KV');
      throw error;
    },
  );
  return cache.irlkitEpoch;
}

/** The current session epoch, or undefined when NATS has not told it within `waitMs`: no session is valid then. */
export async function currentEpoch(waitMs = 5000): Promise<number | undefined> {
  // The operator's NATS user keeps no bucket: its sessions end when its password changes
  // (they are signed with it).
  if (config().role === 'operator') return 0;
  const gaveUp = new AbortController();
  const timeout = sleep(waitMs, undefined, { signal: gaveUp.signal }).catch(() => undefined);
  try {
    const epoch = await Promise.race([sessionEpoch().catch(() => undefined), timeout]);
    return epoch?.current();
  } finally {
    gaveUp.abort();
  }
}

/** Stops following the stream and drains the NATS connection, if there is one. */
export async function closeBus(): Promise<void> {
  cache.irlkitMemory?.stop();
  cache.irlkitOverview?.stop();
  cache.irlkitHistory?.recorder.stop();
  cache.irlkitHistory = undefined;
  const epoch = cache.irlkitEpoch;
  cache.irlkitEpoch = undefined;
  (await epoch?.catch(() => undefined))?.stop();
  const pending = cache.irlkitBus;
  cache.irlkitBus = undefined;
  const b = await pending?.catch(() => undefined);
  await b?.nc.drain().catch(() => undefined);
}
