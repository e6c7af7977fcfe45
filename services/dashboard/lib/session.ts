// Login sessions for Next's pages and routes: the cookie, checked against the current password and
// session epoch (lib/session-token.ts does the signing).
import { cookies } from 'next/headers';
import { currentEpoch } from './bus';
import { config } from './config';
import { type SessionKeys, verifySessionToken } from './session-token';

/** This dashboard's session cookie (one per stream when several streamers share the host). */
export function sessionCookie(): string {
  return config().session.cookie;
}

export function sessionKeys(): SessionKeys {
  const c = config();
  return { sessionSecret: c.session.secret, password: c.login.password };
}

/** The session token of this request, as the browser sent it. */
export async function sessionToken(): Promise<string | undefined> {
  return (await cookies()).get(sessionCookie())?.value;
}

/** The expiry of this request's session, or null when it has none that is valid now. */
export async function currentSessionExpiry(now = Date.now()): Promise<number | null> {
  const token = await sessionToken();
  if (!token) return null;
  const epoch = await currentEpoch();
  if (epoch === undefined) return null;
  return verifySessionToken(token, sessionKeys(), epoch, now);
}

export async function isLoggedIn(): Promise<boolean> {
  return (await currentSessionExpiry()) !== null;
}
