// Event-driven waits with a generous timeout and a message saying what did not happen.
import type { Bus, EventName, EventPayload } from '@irlkit/shared';

export class WaitTimeout extends Error {
  override name = 'WaitTimeout';
}

export async function waitFor<T>(
  check: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  /** What is awaited; a function is asked at the timeout, so it can tell the state things ended in. */
  what: string | (() => string),
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false && value !== null) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new WaitTimeout(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Resolves with the next event of `name` that matches. It subscribes at once, but nats-server learns
 * of the subscription a moment later: to catch a one-shot event you are about to cause, use armEvent.
 */
export function nextEvent<N extends EventName>(
  bus: Bus,
  name: N,
  match: (payload: EventPayload<N>) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<EventPayload<N> & { receivedAt: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new WaitTimeout(`timed out after ${timeoutMs} ms waiting for ${what} on ${name}`));
    }, timeoutMs);
    const unsubscribe = bus.subscribe(name, (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve({ ...payload, receivedAt: Date.now() });
    });
  });
}

/**
 * nextEvent, returned once nats-server has the subscription: a kill or a connect right after it cannot
 * publish its one-shot event (process exited, link stalled) before anyone listens. Await `.next`.
 */
export async function armEvent<N extends EventName>(
  bus: Bus,
  name: N,
  match: (payload: EventPayload<N>) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<{ next: Promise<EventPayload<N> & { receivedAt: number }> }> {
  const next = nextEvent(bus, name, match, what, timeoutMs);
  next.catch(() => {}); // a timeout is reported where `.next` is awaited
  await bus.nc.flush();
  return { next };
}

/** Collects every event of `name` until stopped. */
export function collectEvents<N extends EventName>(bus: Bus, name: N) {
  const items: Array<EventPayload<N> & { receivedAt: number }> = [];
  const unsubscribe = bus.subscribe(name, (payload) => items.push({ ...payload, receivedAt: Date.now() }));
  return { items, stop: unsubscribe };
}

/** The level of the services' logs in tests: warnings unless IRL_TEST_LOG_LEVEL says otherwise (e.g. info, to debug). */
export const testLogLevel = process.env.IRL_TEST_LOG_LEVEL ?? 'warn';
