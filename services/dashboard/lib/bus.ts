// The dashboard server's one NATS connection, shared by every request of this process.
import { Bus, connectNats, createLogger } from '@irlkit/shared';
import { config } from './config';
import { EventMemory } from './memory';

const log = createLogger('dashboard');
const cache = globalThis as unknown as { irlkitBus?: Promise<Bus>; irlkitMemory?: EventMemory };

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
    memory().follow(b);
    return b;
  })().catch((error) => {
    cache.irlkitBus = undefined;
    throw error;
  });
  return cache.irlkitBus;
}

/** Stops following the stream and drains the NATS connection, if there is one. */
export async function closeBus(): Promise<void> {
  cache.irlkitMemory?.stop();
  const pending = cache.irlkitBus;
  cache.irlkitBus = undefined;
  const b = await pending?.catch(() => undefined);
  await b?.nc.drain().catch(() => undefined);
}
