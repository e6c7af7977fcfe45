// The dashboard's front door, in front of Next.js: who the client is, the headers every answer
// carries, same-origin JSON for everything that changes state, and the login itself — counted
// before its body is read, one at a time per client, its body capped.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlockList } from 'node:net';
import type { Logger } from '@irlkit/shared';
import { sameSecret } from '@irlkit/shared/secret';
import { z } from 'zod';
import { currentEpoch } from './bus';
import { CLIENT_ADDRESS_HEADER, clientAddress, rateLimitKey } from './client-address';
import type { DashboardConfig } from './config';
import type { LoginGate } from './login-gate';
import { issueSessionToken } from './session-token';

/** A login body is a password of at most 512 characters in JSON; anything larger is not a login. */
export const LOGIN_BODY_LIMIT_BYTES = 4096;
/** Every other request body (commands, logout). */
export const API_BODY_LIMIT_BYTES = 64 * 1024;
/** A login whose body has not arrived by then is answered 408 and its slot freed. */
export const LOGIN_BODY_TIMEOUT_MS = 10_000;
/** How long a refused request's connection lingers (its body thrown away) before it is cut. */
const LINGER_MS = 2000;

const SECURITY_HEADERS: Record<string, string> = {
  // Never inside someone else's frame (clickjacking), the desktop's sibling host included.
  'content-security-policy': "frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

/** The operator's routes (every stream); a streamer's dashboard has none of them. */
const OPERATOR_PATHS = /^\/api\/operator(\/|$)/;
/** One stream's pages and routes, which an operator dashboard (no stream of its own, no history) has none of. */
const STREAMER_PATHS = /^\/(api\/(events|commands|sessions|recordings)|sessions|stats)(\/|$)/;

const loginBody = z.strictObject({ password: z.string().min(1).max(512) });

export interface FrontDoor {
  /** Handles the request itself (true), or stamps it and leaves it to Next (false). */
  (request: IncomingMessage, response: ServerResponse): Promise<boolean>;
}

export function createFrontDoor(deps: { config: DashboardConfig; proxies: BlockList; gate: LoginGate; log: Logger }): FrontDoor {
  const { config, proxies, gate, log } = deps;
  return async (request, response) => {
    const address = clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], proxies);
    request.headers[CLIENT_ADDRESS_HEADER] = address;
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if ((config.role === 'operator' ? STREAMER_PATHS : OPERATOR_PATHS).test(path)) {
      answer(response, 404, { ok: false, error: `path: ${path.slice(0, 100)} is not on a ${config.role}'s dashboard` });
      return true;
    }
    const method = request.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD') return false;

    const refusal = refuseCrossSite(request) ?? refuseBody(request, path === '/api/login' ? LOGIN_BODY_LIMIT_BYTES : API_BODY_LIMIT_BYTES);
    if (refusal) {
      log.warn({ client: address, path, status: refusal.status, reason: refusal.error }, 'request refused at the door');
      if (refusal.status === 413) refuseLargeBody(request, response, refusal.error);
      else answer(response, refusal.status, { ok: false, error: refusal.error });
      return true;
    }
    if (path !== '/api/login' || method !== 'POST') return false;
    await login(request, response, address);
    return true;
  };

  async function login(request: IncomingMessage, response: ServerResponse, address: string): Promise<void> {
    const admission = gate.admit(rateLimitKey(address));
    if (!admission.admitted) {
      log.warn({ client: address, reason: admission.reason }, 'login refused: too many attempts');
      const error = admission.reason === 'in-flight' ? 'another login from your address is in progress' : 'too many login attempts; wait a minute';
      answer(response, 429, { ok: false, error }, { 'retry-after': String(admission.retryAfterS) });
      return;
    }
    try {
      const body = await readBody(request, LOGIN_BODY_LIMIT_BYTES, LOGIN_BODY_TIMEOUT_MS);
      if (body === 'too-large')
        return answer(response, 413, { ok: false, error: `body: larger than ${LOGIN_BODY_LIMIT_BYTES} bytes` }, { connection: 'close' });
      if (body === 'timeout') return answer(response, 408, { ok: false, error: 'body: not received in time' }, { connection: 'close' });
      let raw: unknown;
      try {
        raw = JSON.parse(body);
      } catch {
        raw = undefined;
      }
      const parsed = loginBody.safeParse(raw);
      if (!parsed.success) return answer(response, 400, { ok: false, error: 'password: required (a string of 1-512 characters)' });
      if (!sameSecret(parsed.data.password, config.login.password)) {
        log.warn({ client: address }, 'login failed: wrong password');
        return answer(response, 401, { ok: false, error: 'wrong password' });
      }
      admission.succeeded();
      const epoch = await currentEpoch();
      if (epoch === undefined) return answer(response, 503, { ok: false, error: 'sessions are unavailable: NATS is not reachable' });
      const maxAgeS = config.session.hours * 3600;
      const token = issueSessionToken({ sessionSecret: config.session.secret, password: config.login.password }, epoch, Date.now() + maxAgeS * 1000);
      const secure = config.session.secureCookies === 'true' || (config.session.secureCookies === 'auto' && request.headers['x-forwarded-proto'] === 'https');
      const cookie = `${config.session.cookie}=${token}; Path=/; Max-Age=${maxAgeS}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
      log.info({ client: address }, 'logged in');
      answer(response, 200, { ok: true }, { 'set-cookie': cookie });
    } finally {
      admission.done();
    }
  }
}

/** Commands, logins and logouts come from this dashboard's own pages, nowhere else (not even a sibling host). */
function refuseCrossSite(request: IncomingMessage): { status: number; error: string } | undefined {
  const origin = request.headers.origin;
  const host = request.headers.host;
  if (origin === undefined) {
    // Browsers send Origin on every POST; Fetch Metadata is the fallback for one that does not.
    if (request.headers['sec-fetch-site'] === 'same-origin') return undefined;
    return { status: 403, error: 'origin: required (requests must come from the dashboard page)' };
  }
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return { status: 403, error: 'origin: not a URL' };
  }
  if (!host || originHost !== host) return { status: 403, error: `origin: ${origin.slice(0, 100)} is not this dashboard` };
  return undefined;
}

function refuseBody(request: IncomingMessage, limitBytes: number): { status: number; error: string } | undefined {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') return { status: 415, error: 'content-type: must be application/json' };
  const length = request.headers['content-length'];
  if (length === undefined) return { status: 411, error: 'content-length: required' };
  if (!/^\d+$/.test(length)) return { status: 400, error: 'content-length: not a number' };
  if (Number(length) > limitBytes) return { status: 413, error: `body: larger than ${limitBytes} bytes` };
  return undefined;
}

/** The request body as text, or why not; never holds more than `limitBytes`. */
function readBody(request: IncomingMessage, limitBytes: number, timeoutMs: number): Promise<string | 'too-large' | 'timeout'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: string | 'too-large' | 'timeout') => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      if (result === 'too-large' || result === 'timeout') request.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) finish('too-large');
      else chunks.push(chunk);
    };
    const onEnd = () => finish(Buffer.concat(chunks).toString('utf8'));
    const onError = () => finish('timeout');
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
  });
}

function answer(response: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(text);
}

/**
 * Answers a request whose body is too large without reading it into memory: what still arrives is
 * thrown away for a moment, so the client reads the answer (closing on unread data would reset the
 * connection and lose it), then the connection is cut.
 */
function refuseLargeBody(request: IncomingMessage, response: ServerResponse, error: string): void {
  answer(response, 413, { ok: false, error });
  const socket = request.socket;
  const cut = setTimeout(() => socket.destroy(), LINGER_MS);
  cut.unref();
  request.once('end', () => clearTimeout(cut));
  request.resume();
}
