// GET /api/sessions/<id>: one session's report as JSON, or `?format=csv` as a CSV download.
import { z } from 'zod';
import { sessions } from '../../../../lib/bus';
import { reportCsv, type SessionReport } from '../../../../lib/history/report';
import { isLoggedIn } from '../../../../lib/session';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

const sessionId = z.string().regex(/^\d{1,16}$/, 'must be a session id (digits)');
const format = z.enum(['json', 'csv']).default('json');

export async function GET(request: Request, context: { params: Promise<{ id: string }> }) {
  if (!(await isLoggedIn())) return Response.json({ ok: false, error: 'login required' }, { status: 401 });
  const id = sessionId.safeParse((await context.params).id);
  if (!id.success) return Response.json({ ok: false, error: `id: ${id.error.issues[0]?.message}` }, { status: 400 });
  const wanted = format.safeParse(new URL(request.url).searchParams.get('format') ?? undefined);
  if (!wanted.success) return Response.json({ ok: false, error: 'format: must be json or csv' }, { status: 400 });
  let report: SessionReport | undefined;
  try {
    report = await (await sessions()).report(id.data);
  } catch (error) {
    return Response.json({ ok: false, error: `history unavailable: ${(error as Error).message}` }, { status: 503 });
  }
  if (!report) return Response.json({ ok: false, error: `id: no session ${id.data}` }, { status: 404 });
  const name = `irlkit-session-${new Date(report.session.startTs).toISOString().slice(0, 16).replace(/[:T]/g, '-')}`;
  if (wanted.data === 'csv') {
    return new Response(reportCsv(report), {
      headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}.csv"` },
    });
  }
  const download = new URL(request.url).searchParams.get('download') === '1';
  return Response.json({ ok: true, report }, download ? { headers: { 'content-disposition': `attachment; filename="${name}.json"` } } : {});
}
