// Login sessions: an HMAC-signed, expiring cookie; constant-time password check; a per-IP rate limit.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { cookies, headers } from 'next/headers';
import { CLIENT_ADDRESS_HEADER } from './client-address';
import { config } from './config';

export const SESSION_COOKIE = 'irlkit_session';

function sign(payload: string): string {
  return createHmac('sha256', config().session.secret).update(payload).digest('base64url');
}

function equal(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function passwordMatches(candidate: string): boolean {
  return equal(candidate, config().login.password);
}

export function newSessionToken(now = Date.now()): { token: string; maxAgeS: number } {
  const maxAgeS = config().session.hours * 3600;
  const payload = `${now + maxAgeS * 1000}.${randomBytes(12).toString('base64url')}`;
  return { token: `${payload}.${sign(payload)}`, maxAgeS };
}

/** When a session token expires (ms since the epoch), or null if it is not one this server signed. */
export function sessionExpiry(token: string | undefined): number | null {
  if (!token) return null;
  const dot = token.lastIndexOf('.');
  if (dot < 0) return null;
  const payload = token.slice(0, dot);
  if (!equal(token.slice(dot + 1), sign(payload))) return null;
  const expires = Number(payload.split('.')[0]);
  return Number.isFinite(expires) ? expires : null;
}

export function validSession(token: string | undefined, now = Date.now()): boolean {
  const expires = sessionExpiry(token);
  return expires !== null && expires > now;
}

/** The expiry of this request's session, or null when it has none that is valid now. */
export async function currentSessionExpiry(now = Date.now()): Promise<number | null> {
  const expires = sessionExpiry((await cookies()).get(SESSION_COOKIE)?.value);
  return expires !== null && expires > now ? expires : null;
}

export async function isLoggedIn(): Promise<boolean> {
  return (await currentSessionExpiry()) !== null;
}

export async function secureCookies(): Promise<boolean> {
  const setting = config().session.secureCookies;
  if (setting !== 'auto') return setting === 'true';
  return (await headers()).get('x-forwarded-proto') === 'https';
}

const failedLogins = new Map<string, number[]>();

function recentFailures(ip: string, now: number): number[] {
  const recent = (failedLogins.get(ip) ?? []).filter((t) => now - t < 60_000);
  if (recent.length) failedLogins.set(ip, recent);
  else failedLogins.delete(ip);
  return recent;
}

/**
 * True once the address failed too many logins in the last minute: every further attempt, right
 * password or not, is refused until the minute passes. Successful logins do not count, so a
 * streamer and their moderators on several devices never lock each other out.
 */
export function loginBlocked(ip: string, now = Date.now()): boolean {
  return recentFailures(ip, now).length >= config().login.attemptsPerMinute;
}

export function recordFailedLogin(ip: string, now = Date.now()): void {
  // Forget addresses whose failures are over a minute old, so the table cannot grow without bound.
  if (failedLogins.size > 10_000) for (const known of [...failedLogins.keys()]) recentFailures(known, now);
  failedLogins.set(ip, [...recentFailures(ip, now), now]);
}

/** The client address server.ts vouched for; one shared budget if the app runs without server.ts. */
export async function clientIp(): Promise<string> {
  return (await headers()).get(CLIENT_ADDRESS_HEADER) || 'unknown';
}
