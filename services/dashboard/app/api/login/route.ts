// POST /api/login {password}: sets the session cookie; 400 on a bad body, 401 on a wrong password, 429 when rate-limited.
import { NextResponse } from 'next/server';
import { z } from 'zod';
import { clientIp, loginBlocked, newSessionToken, passwordMatches, recordFailedLogin, SESSION_COOKIE, secureCookies } from '../../../lib/session';

export const dynamic = 'force-dynamic';
const body = z.strictObject({ password: z.string().min(1).max(512) });

export async function POST(request: Request) {
  const ip = await clientIp();
  if (loginBlocked(ip)) {
    return NextResponse.json({ ok: false, error: 'too many login attempts; wait a minute' }, { status: 429, headers: { 'retry-after': '60' } });
  }
  const parsed = body.safeParse(await request.json().catch(() => undefined));
  if (!parsed.success) {
    recordFailedLogin(ip);
    return NextResponse.json({ ok: false, error: 'password: required' }, { status: 400 });
  }
  if (!passwordMatches(parsed.data.password)) {
    recordFailedLogin(ip);
    return NextResponse.json({ ok: false, error: 'wrong password' }, { status: 401 });
  }
  const { token, maxAgeS } = newSessionToken();
  const response = NextResponse.json({ ok: true });
  response.cookies.set(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: await secureCookies(), path: '/', maxAge: maxAgeS });
  return response;
}
