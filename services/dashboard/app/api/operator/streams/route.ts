// GET /api/operator/streams (operator role): every stream's line: switcher state and since when, the
// feed's bitrate and RTT, OBS streaming or not, when it was last heard from.
import { bus, overview } from '../../../../lib/bus';
import { config } from '../../../../lib/config';
import { isLoggedIn } from '../../../../lib/session';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export async function GET() {
  if (config().role !== 'operator') return Response.json({ ok: false, error: "path: not on a streamer's dashboard" }, { status: 404 });
  if (!(await isLoggedIn())) return Response.json({ ok: false, error: 'login required' }, { status: 401 });
  // The overview fills from the moment the connection exists: make sure one is on its way (it keeps trying),
  // without holding the answer while NATS is away (the page asks again every 2 s).
  void bus().catch(() => undefined);
  return Response.json({ ok: true, nowMs: Date.now(), streams: overview().list() }, { headers: { 'cache-control': 'no-store' } });
}
