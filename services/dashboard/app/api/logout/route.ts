// POST /api/logout {everywhere?: boolean}: clears this browser's session cookie; with everywhere,
// moves the session epoch on so every session of every browser ends.
import { NextResponse } from 'next/server';
import { z } from 'zod';
import { sessionEpoch } from '../../../lib/bus';
import { config } from '../../../lib/config';
import { isLoggedIn, sessionCookie } from '../../../lib/session';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';
const body = z.strictObject({ everywhere: z.boolean().default(false) });

export async function POST(request: Request) {
  const parsed = body.safeParse(await request.json().catch(() => undefined));
  if (!parsed.success) return NextResponse.json({ ok: false, error: 'everywhere: must be true or false' }, { status: 400 });
  if (parsed.data.everywhere && config().role === 'operator') {
    // The operator's NATS user keeps no session epoch: its sessions are signed with its password.
    return NextResponse.json({ ok: false, error: 'everywhere: change the operator password to end every session' }, { status: 400 });
  }
  if (parsed.data.everywhere) {
    if (!(await isLoggedIn())) return NextResponse.json({ ok: false, error: 'login required' }, { status: 401 });
    await (await sessionEpoch()).bump();
  }
  const response = NextResponse.json({ ok: true });
  response.cookies.set(sessionCookie(), '', { httpOnly: true, sameSite: 'strict', path: '/', maxAge: 0 });
  return response;
}
