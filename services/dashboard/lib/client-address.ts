// Which client sent a request, as far as the dashboard can vouch for it. No I/O: server.ts stamps
// every request with it, the login route reads it back.

/** Set by server.ts on every request (a client's own copy is overwritten). */
export const CLIENT_ADDRESS_HEADER = 'x-irlkit-client-address';

/**
 * The socket's address; behind a trusted proxy, the last X-Forwarded-For entry instead: the one the
 * proxy itself appended (every entry before it is whatever the client chose to send).
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, trustProxy: boolean): string {
  const direct = normalize(socketAddress) || 'unknown';
  if (!trustProxy) return direct;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
  const last = header
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .at(-1);
  return normalize(last) || direct;
}

function normalize(address: string | undefined): string {
  const a = (address ?? '').trim().slice(0, 64);
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
