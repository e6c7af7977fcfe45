// GET /api/sessions: the stream's sessions from the history, newest first.
import { sessions } from '../../../lib/bus';
import { isLoggedIn } from '../../../lib/session';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export async function GET() {
  if (!(await isLoggedIn())) return Response.json({ ok: false, error: 'login required' }, { status: 401 });
  try {
    return Response.json({ ok: true, sessions: await (await sessions()).list() });
  } catch (error) {
    return Response.json({ ok: false, error: `history unavailable: ${(error as Error).message}` }, { status: 503 });
  }
}
