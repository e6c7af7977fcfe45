// GET /api/events: a snapshot of recent events, then every event of the stream as Server-Sent Events
// (`event: <name>`), validated on the way.
import { bus, memory } from '../../../lib/bus';
import { isLoggedIn } from '../../../lib/session';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

/** Lets the page tell an expired session (401) from a network hiccup without opening a stream. */
export async function HEAD() {
  return new Response(null, { status: (await isLoggedIn()) ? 204 : 401 });
}

export async function GET(request: Request) {
  if (!(await isLoggedIn())) return Response.json({ ok: false, error: 'login required' }, { status: 401 });
  await bus(); // the server's NATS connection, which the memory follows
  const encoder = new TextEncoder();
  const unsubscribes: Array<() => void> = [];
  let keepAlive: NodeJS.Timeout | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          // the client went away; abort cleans up
        }
      };
      send('retry: 1000\n\n');
      // What happened before this page connected, then everything live, from the server's memory:
      // nothing falls between the two and nothing comes twice.
      const { snapshot, unsubscribe } = memory().subscribe(({ name, payload }) => send(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`));
      unsubscribes.push(unsubscribe);
      send(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
      keepAlive = setInterval(() => send(': keep-alive\n\n'), 15_000);
      request.signal.addEventListener('abort', () => {
        for (const u of unsubscribes) u();
        clearInterval(keepAlive);
        try {
          controller.close();
        } catch {
          // already closed
        }
      });
    },
    cancel() {
      for (const u of unsubscribes) u();
      clearInterval(keepAlive);
    },
  });
  return new Response(stream, {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' },
  });
}
