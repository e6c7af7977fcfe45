// Runs once when the dashboard server starts: connect to NATS at once, so the server remembers the
// stream's recent events before the first page asks for them.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { bus } = await import('./lib/bus');
  // A NATS server that is not up yet is retried by the first page that needs it.
  await bus().catch(() => undefined);
}
