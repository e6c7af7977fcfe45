// GET /api/sessions: the stream's sessions from the history, newest first.
import { history } from '../../../lib/bus';
import { listSessions } from '../../../lib/history/sessions';
import { isLoggedIn } from '../../../lib/session';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export async function GET() {
  if (!(await isLoggedIn())) return Response.json({ ok: false, error: 'login required' }, { status: 401 });
  try {
    return Response.json({ ok: true, sessions: await listSessions(await history()) });
  } catch (error) {
    return Response.json({ ok: false, error: `history unavailable: ${(error as Error).message}` }, { status: 503 });
  }
}
