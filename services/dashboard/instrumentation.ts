// Runs once when the dashboard server starts: connect to NATS at once, so the server remembers the
// stream's recent events before the first page asks for them.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { bus } = await import('./lib/bus');
  // Not awaited: the server must answer (login, health) while NATS is still unreachable; the
  // connection keeps trying, and a failed one is retried by the first page that needs it.
  void bus().catch(() => undefined);
}
