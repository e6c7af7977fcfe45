// GET /api/events: a snapshot of recent events, then every event of the stream as Server-Sent Events
// (`event: <name>`), validated on the way, until the session ends.
import { bus, memory } from '../../../lib/bus';
import { currentSessionExpiry, isLoggedIn } from '../../../lib/session';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

/** Lets the page tell an expired session (401) from a network hiccup without opening a stream. */
export async function HEAD() {
  return new Response(null, { status: (await isLoggedIn()) ? 204 : 401 });
}

export async function GET(request: Request) {
  const expires = await currentSessionExpiry();
  if (expires === null) return Response.json({ ok: false, error: 'login required' }, { status: 401 });
  await bus(); // the server's NATS connection, which the memory follows
  const encoder = new TextEncoder();
  let unsubscribe: (() => void) | undefined;
  let keepAlive: NodeJS.Timeout | undefined;
  let sessionEnd: NodeJS.Timeout | undefined;
  const release = () => {
    unsubscribe?.();
    clearInterval(keepAlive);
    clearTimeout(sessionEnd);
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          // the client went away; abort cleans up
        }
      };
      const close = () => {
        release();
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
      send('retry: 1000\n\n');
      // What happened before this page connected, then everything live, from the server's memory:
      // nothing falls between the two and nothing comes twice.
      const subscription = memory().subscribe(({ name, payload }) => send(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`));
      unsubscribe = subscription.unsubscribe;
      send(`event: snapshot\ndata: ${JSON.stringify(subscription.snapshot)}\n\n`);
      keepAlive = setInterval(() => send(': keep-alive\n\n'), 15_000);
      // The stream ends with the session: the browser reconnects, gets 401, and the page goes to the login.
      sessionEnd = setTimeout(close, Math.min(Math.max(0, expires - Date.now()), 2 ** 31 - 1));
      request.signal.addEventListener('abort', close);
    },
    cancel: release,
  });
  return new Response(stream, {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' },
  });
}
