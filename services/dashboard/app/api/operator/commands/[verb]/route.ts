// POST /api/operator/commands/<verb> {stream} (operator role): starts or stops one stream's OBS, the same
// request a streamer's dashboard sends, on `irl.<stream>.cmd.<verb>`; the stream must be one configured or seen.
import { commandSchemas } from '@irlkit/shared';
import { z } from 'zod';
import { overview, streamBus } from '../../../../../lib/bus';
import { config } from '../../../../../lib/config';
import { isLoggedIn } from '../../../../../lib/session';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

/** What the operator page offers per stream. */
const OPERATOR_VERBS = ['stream.start', 'stream.stop'] as const;
type OperatorVerb = (typeof OPERATOR_VERBS)[number];
const body = z.strictObject({ stream: z.string().min(1).max(64) });

export async function POST(request: Request, context: { params: Promise<{ verb: string }> }) {
  if (config().role !== 'operator') return Response.json({ ok: false, error: "path: not on a streamer's dashboard" }, { status: 404 });
  if (!(await isLoggedIn())) return Response.json({ ok: false, error: 'login required' }, { status: 401 });
  const { verb } = await context.params;
  if (!(OPERATOR_VERBS as readonly string[]).includes(verb)) {
    return Response.json({ ok: false, error: `verb: "${verb.slice(0, 64)}" is not one of ${OPERATOR_VERBS.join(', ')}` }, { status: 404 });
  }
  const parsed = body.safeParse(await request.json().catch(() => undefined));
  if (!parsed.success) return Response.json({ ok: false, error: 'stream: required (a stream id)' }, { status: 400 });
  const streamId = parsed.data.stream;
  if (!overview().knows(streamId)) {
    const known = overview()
      .list()
      .map((s) => s.id);
    return Response.json({ ok: false, error: `stream: unknown stream "${streamId}" (known: ${known.join(', ') || 'none yet'})` }, { status: 400 });
  }
  const payload = commandSchemas[verb as OperatorVerb].request.parse({});
  const reply = await (await streamBus(streamId)).request(verb as OperatorVerb, payload, 8000);
  return Response.json(reply, { status: reply.ok ? 200 : 502 });
}
