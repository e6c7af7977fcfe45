// POST /api/commands/<verb>: validates the body with the command's schema, sends it over NATS, returns the reply.
import { COMMAND_VERBS, type CommandVerb, commandSchemas } from '@irlkit/shared';
import { bus } from '../../../../lib/bus';
import { isLoggedIn } from '../../../../lib/session';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export async function POST(request: Request, context: { params: Promise<{ verb: string }> }) {
  if (!(await isLoggedIn())) return Response.json({ ok: false, error: 'login required' }, { status: 401 });
  const { verb } = await context.params;
  if (!(COMMAND_VERBS as readonly string[]).includes(verb)) return Response.json({ ok: false, error: `verb: unknown command "${verb}"` }, { status: 404 });
  const raw = await request.json().catch(() => undefined);
  const parsed = commandSchemas[verb as CommandVerb].request.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return Response.json({ ok: false, error: `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}` }, { status: 400 });
  }
  const reply = await (await bus()).request(verb as CommandVerb, parsed.data as never, 8000);
  return Response.json(reply, { status: reply.ok ? 200 : 502 });
}
