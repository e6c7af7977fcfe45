// GET /stats/<key> on the dashboard's port: the feed's statistics for NOALBS and SRT stats monitors, in
// OpenIRL's shape, or SRT Live Server's with `?legacy=1` (lib/publisher-stats.ts). Guarded by its own key,
// not the login: tools poll it once a second and cannot log in.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@irlkit/shared';
import { sameSecret } from '@irlkit/shared/secret';
import { CLIENT_ADDRESS_HEADER } from './client-address';
import { openIrlStats, type PublisherView, srtLiveServerStats } from './publisher-stats';

const PATH = /^\/stats\/([^/?#]*)(?:\?(.*))?$/;

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  response.end(JSON.stringify(body));
}

/**
 * Answers the request when it is for `/stats/…` and returns true; returns false for every other path.
 * `view` is read at request time: what the server has heard of the feed so far.
 */
export async function serveStats(
  request: IncomingMessage,
  response: ServerResponse,
  statsKey: string | undefined,
  view: () => PublisherView,
  log: Logger,
): Promise<boolean> {
  const match = PATH.exec(request.url ?? '');
  if (!match) return false;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    send(response, 405, { status: 'error', message: 'method: only GET' });
    return true;
  }
  if (!statsKey) {
    send(response, 404, { status: 'error', message: 'the stats endpoint is off (set DASHBOARD_STATS_KEY)' });
    return true;
  }
  let key: string;
  try {
    key = decodeURIComponent(match[1] ?? '');
  } catch {
    key = '';
  }
  if (!sameSecret(key, statsKey)) {
    log.warn({ client: request.headers[CLIENT_ADDRESS_HEADER] }, 'stats endpoint: wrong key');
    send(response, 403, { status: 'error', message: 'Invalid stats key' });
    return true;
  }
  const legacy = new URLSearchParams(match[2] ?? '').get('legacy');
  const current = view();
  const now = Date.now();
  send(response, 200, legacy === '1' || legacy === 'true' ? srtLiveServerStats(current, now) : openIrlStats(current, now));
  return true;
}
