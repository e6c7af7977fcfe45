// GET /api/events: a snapshot of recent events, then every event of the stream as Server-Sent Events
// (`event: <name>`), validated on the way, until the session ends. A reader that falls behind loses
// preview frames first and its stream next, never the server's memory; streams are capped.
import { createHash } from 'node:crypto';
import { bus, memory, sessionEpoch } from '../../../lib/bus';
import { config } from '../../../lib/config';
import { backpressure, EventStreamCounter } from '../../../lib/event-streams';
import { currentSessionExpiry, isLoggedIn, sessionKeys, sessionToken } from '../../../lib/session';
import { verifySessionToken } from '../../../lib/session-token';
import { ViewerBeacon } from '../../../lib/viewers';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

const cache = globalThis as unknown as { irlkitEventStreams?: EventStreamCounter; irlkitViewers?: ViewerBeacon };
function streams(): EventStreamCounter {
  const c = config();
  // Each open stream is a page watching: obs-bridge takes preview screenshots only while there is one.
  cache.irlkitViewers ??= new ViewerBeacon((viewers) => {
    bus().then(
      (b) => b.publish('dashboard.viewers', { ts: Date.now(), viewers }),
      () => undefined, // no NATS: nobody to tell; the next change or repeat tells again
    );
  });
  const viewers = cache.irlkitViewers;
  cache.irlkitEventStreams ??= new EventStreamCounter(c.eventStreams, (open) => viewers.set(open));
  return cache.irlkitEventStreams;
}

/** Lets the page tell an expired session (401) from a network hiccup without opening a stream. */
export async function HEAD() {
  return new Response(null, { status: (await isLoggedIn()) ? 204 : 401 });
}

export async function GET(request: Request) {
  const expires = await currentSessionExpiry();
  if (expires === null) return Response.json({ ok: false, error: 'login required' }, { status: 401 });
  const token = (await sessionToken()) ?? '';
  const sessionKey = createHash('sha256').update(token).digest('base64url');
  const admission = streams().open(sessionKey);
  if (!admission.open) return Response.json({ ok: false, error: admission.error }, { status: 429, headers: { 'retry-after': '5' } });
  await bus(); // the server's NATS connection, which the memory follows
  const epoch = await sessionEpoch();
  const encoder = new TextEncoder();
  let unsubscribe: (() => void) | undefined;
  let stopFollowingEpoch: (() => void) | undefined;
  let keepAlive: NodeJS.Timeout | undefined;
  let sessionEnd: NodeJS.Timeout | undefined;
  const release = () => {
    unsubscribe?.();
    stopFollowingEpoch?.();
    clearInterval(keepAlive);
    clearTimeout(sessionEnd);
    admission.release();
  };
  // The queue counts bytes; desiredSize tells how much of it the reader has not taken yet.
  const highWaterMarkBytes = 64 * 1024;
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const close = () => {
          release();
          try {
            controller.close();
          } catch {
            // already closed
          }
        };
        const send = (name: string, text: string) => {
          const bytes = encoder.encode(text);
          const queued = highWaterMarkBytes - (controller.desiredSize ?? 0);
          const verdict = backpressure(name, queued, bytes.byteLength);
          if (verdict === 'drop') return;
          if (verdict === 'close') return close();
          try {
            controller.enqueue(bytes);
          } catch {
            // the client went away; abort cleans up
          }
        };
        send('retry', 'retry: 1000\n\n');
        // What happened before this page connected, then everything live, from the server's memory:
        // nothing falls between the two and nothing comes twice.
        const subscription = memory().subscribe(({ name, payload }) => send(name, `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`));
        unsubscribe = subscription.unsubscribe;
        send('snapshot', `event: snapshot\ndata: ${JSON.stringify(subscription.snapshot)}\n\n`);
        keepAlive = setInterval(() => send('keep-alive', ': keep-alive\n\n'), 15_000);
        // The stream ends with the session: the browser reconnects, gets 401, and the page goes to the login.
        sessionEnd = setTimeout(close, Math.min(Math.max(0, expires - Date.now()), 2 ** 31 - 1));
        // ...and when someone logs out everywhere.
        stopFollowingEpoch = epoch.onChange((current) => {
          if (verifySessionToken(token, sessionKeys(), current) === null) close();
        });
        request.signal.addEventListener('abort', close);
      },
      cancel: release,
    },
    { highWaterMark: highWaterMarkBytes, size: (chunk) => chunk?.byteLength ?? 0 },
  );
  return new Response(stream, {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' },
  });
}
