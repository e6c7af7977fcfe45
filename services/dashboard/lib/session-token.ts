// Session tokens, pure (no Next, no I/O): `<expiresAt>.<epoch>.<nonce>.<signature>`. The signing key
// is derived from the session secret AND the password, so changing the password ends every session;
// the epoch (kept in NATS KV) ends them all at once when someone logs out everywhere.
import { createHmac, randomBytes } from 'node:crypto';
import { sameSecret } from '@irlkit/shared/secret';

export const SESSION_COOKIE = 'irlkit_session';

/**
 * The session cookie's name: one per stream when several streamers' dashboards share a host (cookies are
 * per host, not per port, so logging in to one would otherwise replace the other's session).
 */
export function sessionCookieName(ownStream: string | undefined): string {
  return ownStream ? `${SESSION_COOKIE}_${ownStream}` : SESSION_COOKIE;
}

export interface SessionKeys {
  sessionSecret: string;
  password: string;
}

function signingKey(keys: SessionKeys): Buffer {
  return createHmac('sha256', keys.sessionSecret).update('irlkit session\0').update(keys.password).digest();
}

function sign(payload: string, keys: SessionKeys): string {
  return createHmac('sha256', signingKey(keys)).update(payload).digest('base64url');
}

export function issueSessionToken(keys: SessionKeys, epoch: number, expiresAt: number): string {
  const payload = `${expiresAt}.${epoch}.${randomBytes(12).toString('base64url')}`;
  return `${payload}.${sign(payload, keys)}`;
}

/**
 * When the token expires (ms since the epoch), or null if this server did not sign it with the
 * current password, it belongs to an earlier session epoch, or it has expired.
 */
export function verifySessionToken(token: string | undefined, keys: SessionKeys, epoch: number, now = Date.now()): number | null {
  if (!token || token.length > 256) return null;
  const dot = token.lastIndexOf('.');
  if (dot < 0) return null;
  const payload = token.slice(0, dot);
  if (!sameSecret(token.slice(dot + 1), sign(payload, keys))) return null;
  const [expiresText, epochText] = payload.split('.');
  const expiresAt = Number(expiresText);
  if (!Number.isFinite(expiresAt) || expiresAt <= now) return null;
  return Number(epochText) === epoch ? expiresAt : null;
}
