// The dashboard's doors tried by an attacker, against the real server (server.ts + Next.js) and a
// real nats-server: login races, huge bodies, IPv6 rotation, a distributed guesser, cross-site
// commands, framing, stale sessions after a password change or "log out everywhere", and event
// streams whose readers stop reading.
import { connect as netConnect, type Socket } from 'node:net';
import { startDashboard, startNats, type TestDashboard, type TestNats, testBus, waitFor } from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validEvents } from '../../../packages/shared/test/samples.ts';

let nats: TestNats;
let dashboard: TestDashboard;
let bus: Awaited<ReturnType<typeof testBus>>;

beforeAll(async () => {
  nats = await startNats();
  bus = await testBus(nats);
  // 127.0.0.1 is "the proxy": its X-Forwarded-For entries are believed, so each test can speak as
  // its own client address. Anything else on loopback (127.0.0.2) is a stranger.
  dashboard = await startDashboard(nats, {
    DASHBOARD_TRUSTED_PROXIES: '127.0.0.1',
    DASHBOARD_LOGIN_GLOBAL_ATTEMPTS_PER_MINUTE: '1000',
    DASHBOARD_EVENT_STREAMS_PER_SESSION: '3',
  });
});
afterAll(async () => {
  await bus?.closeConnection();
  await dashboard?.stop();
  await nats?.stop();
});

const port = () => Number(new URL(dashboard.url).port);
const origin = () => dashboard.url;

interface RawAnswer {
  status: number;
  /** ms from the first byte sent to the status line received. */
  afterMs: number;
  text: string;
}

/**
 * One HTTP request over a plain socket, so the body can come late (or be huge): the headers go at
 * once, the body after `bodyDelayMs`. Resolves with the status line as soon as it arrives.
 */
function rawPost(
  path: string,
  options: { headers?: Record<string, string>; body?: string; bodyDelayMs?: number; localAddress?: string } = {},
): Promise<RawAnswer> {
  const body = options.body ?? '';
  const headers = {
    host: `127.0.0.1:${port()}`,
    origin: origin(),
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket: Socket = netConnect({ port: port(), host: '127.0.0.1', localAddress: options.localAddress });
    let received = '';
    let answered = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to POST ${path} within 20 s`));
    }, 20_000);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (match && !answered && received.includes('\r\n\r\n')) {
        answered = true;
        clearTimeout(timer);
        // The rest (the JSON body) is small; give it a moment, then hand back what came.
        setTimeout(() => {
          socket.destroy();
          resolve({ status: Number(match[1]), afterMs: Date.now() - started, text: received });
        }, 50);
      }
    });
    socket.on('error', () => {}); // the server may close on us mid-body; the status line is what counts
    socket.on('connect', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n`,
      );
      const sendBody = () => {
        if (!socket.destroyed) socket.write(body);
      };
      if (options.bodyDelayMs) setTimeout(sendBody, options.bodyDelayMs);
      else sendBody();
    });
  });
}

async function login(password: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${dashboard.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: origin(), ...headers },
    body: JSON.stringify({ password }),
  });
}

async function sessionCookie(target: TestDashboard = dashboard, password = target.password): Promise<string> {
  const response = await fetch(`${target.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: target.url, 'x-forwarded-for': `198.51.100.${Math.floor(Math.random() * 200)}` },
    body: JSON.stringify({ password }),
  });
  expect(response.status).toBe(200);
  return (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
}

describe('login door', () => {
  it('30 wrong logins at once from one address, bodies 2 s late: at most the limit are tried, the rest get 429', async () => {
    const client = { 'x-forwarded-for': '203.0.113.30' };
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => rawPost('/api/login', { headers: client, body: JSON.stringify({ password: 'wrong-password' }), bodyDelayMs: 2000 })),
    );
    const statuses = answers.map((a) => a.status);
    const tried = statuses.filter((s) => s === 401).length;
    expect(tried).toBeGreaterThanOrEqual(1);
    expect(tried).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30 - tried);
    // And the address stays limited: its sixth try in the minute is refused even with the right password.
    for (let i = tried; i < 5; i++) expect((await login('wrong-password', client)).status).toBe(401);
    expect((await login(dashboard.password, client)).status).toBe(429);
  });

  it('a 50 MB login body is refused with 413 within 1 s, and the server does not hold it', async () => {
    const before = dashboard.rssBytes();
    const answer = await new Promise<RawAnswer>((resolve, reject) => {
      const started = Date.now();
      const socket = netConnect({ port: port(), host: '127.0.0.1' });
      const total = 50 * 1024 * 1024;
      const chunk = Buffer.alloc(256 * 1024, 'a');
      let sent = 0;
      let received = '';
      const pump = () => {
        while (sent < total && !socket.destroyed) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      socket.on('error', () => {});
      socket.on('connect', () => {
        socket.write(
          `POST /api/login HTTP/1.1\r\nhost: 127.0.0.1:${port()}\r\norigin: ${origin()}\r\ncontent-type: application/json\r\ncontent-length: ${total}\r\nx-forwarded-for: 203.0.113.50\r\n\r\n{"password":"`,
        );
        pump();
      });
      socket.on('data', (data) => {
        received += data.toString('latin1');
        const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
        if (match) {
          socket.destroy();
          resolve({ status: Number(match[1]), afterMs: Date.now() - started, text: received });
        }
      });
      setTimeout(() => reject(new Error('no answer to a 50 MB login within 10 s')), 10_000);
    });
    expect(answer.status).toBe(413);
    expect(answer.afterMs).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 300));
    expect(dashboard.rssBytes() - before).toBeLessThan(10 * 1024 * 1024);
  });

  it('counts IPv6 clients by their /64, so rotating addresses inside one gains nothing', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 6; i++) statuses.push((await login('wrong-password', { 'x-forwarded-for': `2001:db8:77:1::${i.toString(16)}` })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    // A neighbouring /64 is another subscriber.
    expect((await login('wrong-password', { 'x-forwarded-for': '2001:db8:77:2::1' })).status).toBe(401);
  });

  it('believes X-Forwarded-For only from a configured proxy', async () => {
    // 127.0.0.2 is not a trusted proxy: its forged entries are ignored and it is limited as itself.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push(
        (await rawPost('/api/login', { localAddress: '127.0.0.2', headers: { 'x-forwarded-for': `198.18.0.${i}` }, body: '{"password":"wrong-password"}' }))
          .status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('has a global budget: a guesser with many addresses is stopped too', async () => {
    const budget = await startDashboard(nats, { DASHBOARD_TRUSTED_PROXIES: '127.0.0.1', DASHBOARD_LOGIN_GLOBAL_ATTEMPTS_PER_MINUTE: '10' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 14; i++) {
        const response = await fetch(`${budget.url}/api/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: budget.url, 'x-forwarded-for': `192.0.2.${i + 1}` },
          body: JSON.stringify({ password: 'wrong-password' }),
        });
        statuses.push(response.status);
      }
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(statuses.slice(10)).toEqual(Array(4).fill(429));
    } finally {
      await budget.stop();
    }
  });
});

describe('cross-site requests and framing', () => {
  it('refuses commands from another origin (a sibling host too) and non-JSON bodies; frames are forbidden', async () => {
    const cookie = await sessionCookie();
    const sent: unknown[] = [];
    const stop = bus.serve('stream.start', (request) => {
      sent.push(request);
    });
    await bus.nc.flush();
    try {
      const post = (headers: Record<string, string>, body = '{}') =>
        fetch(`${dashboard.url}/api/commands/stream.start`, { method: 'POST', headers: { cookie, ...headers }, body });
      // The README's desktop.<host>: same site, other origin. A form post from anywhere: text/plain.
      expect((await post({ 'content-type': 'application/json', origin: 'http://desktop.127.0.0.1.nip.io' })).status).toBe(403);
      expect((await post({ 'content-type': 'text/plain', origin: origin() })).status).toBe(415);
      expect((await post({ 'content-type': 'application/json' })).status).toBe(403);
      expect(sent).toEqual([]);
      const ok = await post({ 'content-type': 'application/json', origin: origin() });
      expect(ok.status).toBe(200);
      expect(sent).toEqual([{}]);
    } finally {
      stop();
    }
    for (const path of ['/login', '/']) {
      const page = await fetch(`${dashboard.url}${path}`, { redirect: 'manual' });
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(page.headers.get('x-frame-options')).toBe('DENY');
    }
  });
});

describe('sessions', () => {
  it('end when the password changes', async () => {
    const cookie = await sessionCookie();
    expect((await fetch(`${dashboard.url}/api/events`, { method: 'HEAD', headers: { cookie } })).status).toBe(204);
    // The same server secret, a new password: what the operator does after a leak.
    const changed = await startDashboard(nats, { DASHBOARD_PASSWORD: 'a-new-dashboard-password' });
    try {
      expect((await fetch(`${changed.url}/api/events`, { method: 'HEAD', headers: { cookie } })).status).toBe(401);
      const fresh = await sessionCookie(changed, 'a-new-dashboard-password');
      expect((await fetch(`${changed.url}/api/events`, { method: 'HEAD', headers: { cookie: fresh } })).status).toBe(204);
    } finally {
      await changed.stop();
    }
  });

  it('"log out everywhere" ends every session, open event streams included, and survives a restart', async () => {
    const phone = await sessionCookie();
    const laptop = await sessionCookie();
    const stream = await fetch(`${dashboard.url}/api/events`, { headers: { cookie: laptop } });
    expect(stream.status).toBe(200);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const ended = (async () => {
      for (;;) if ((await reader.read()).done) return true;
    })();
    const out = await fetch(`${dashboard.url}/api/logout`, {
      method: 'POST',
      headers: { cookie: phone, origin: origin(), 'content-type': 'application/json' },
      body: '{"everywhere":true}',
    });
    expect(out.status).toBe(200);
    expect(await Promise.race([ended, new Promise((r) => setTimeout(() => r(false), 5000))])).toBe(true);
    for (const cookie of [phone, laptop]) expect((await fetch(`${dashboard.url}/api/events`, { method: 'HEAD', headers: { cookie } })).status).toBe(401);
    await dashboard.restart();
    expect((await fetch(`${dashboard.url}/api/events`, { method: 'HEAD', headers: { cookie: laptop } })).status).toBe(401);
    const fresh = await sessionCookie();
    expect((await fetch(`${dashboard.url}/api/events`, { method: 'HEAD', headers: { cookie: fresh } })).status).toBe(204);
  });
});

describe('event streams', () => {
  it('a reader that stops reading costs the server no memory: preview frames are dropped', async () => {
    // A server of its own, so what earlier tests left for the garbage collector does not blur the measure.
    const fresh = await startDashboard(nats);
    try {
      const cookie = await sessionCookie(fresh);
      const freshPort = Number(new URL(fresh.url).port);
      // A page that opens the stream and never reads it.
      const socket = netConnect({ port: freshPort, host: '127.0.0.1' });
      socket.on('error', () => {});
      await new Promise((r) => socket.once('connect', r));
      socket.write(`GET /api/events HTTP/1.1\r\nhost: 127.0.0.1:${freshPort}\r\ncookie: ${cookie}\r\n\r\n`);
      const head = await new Promise<Buffer>((r) => socket.once('data', r));
      expect(head.toString('latin1')).toMatch(/^HTTP\/1\.1 200/);
      socket.pause();
      const before = fresh.rssBytes();
      // 60 MB of preview frames (a 100 KB frame, as fast as the bus carries them).
      const frame = 'A'.repeat(100_000);
      for (let i = 0; i < 600; i++) {
        bus.publish('obs.screenshot', { ...validEvents['obs.screenshot'], ts: Date.now(), data: frame });
        if (i % 50 === 49) await bus.nc.flush();
      }
      await bus.nc.flush();
      await new Promise((r) => setTimeout(r, 1000));
      const grown = fresh.rssBytes() - before;
      socket.destroy();
      // What the stream may hold is 0.5 MB; RSS also carries the garbage of 60 MB of parsed frames, which a
      // loaded machine collects late (25.4 MB seen once at load 20). Before frames were dropped: +79 MB.
      expect(grown).toBeLessThan(40 * 1024 * 1024);
    } finally {
      await fresh.stop();
    }
  });

  it('caps streams per session', async () => {
    const cookie = await sessionCookie();
    const controllers = Array.from({ length: 4 }, () => new AbortController());
    try {
      const statuses: number[] = [];
      for (const controller of controllers) {
        const stream = await fetch(`${dashboard.url}/api/events`, { headers: { cookie }, signal: controller.signal });
        statuses.push(stream.status);
        // Pages that read what they get (a reader that falls behind may be cut, which is another test).
        void stream.body?.pipeTo(new WritableStream()).catch(() => {});
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      // Closing one frees its place.
      controllers[0]?.abort();
      await waitFor(async () => {
        const again = await fetch(`${dashboard.url}/api/events`, { headers: { cookie }, signal: (controllers[3] as AbortController).signal });
        return again.status === 200;
      }, 'a closed stream to free its place');
    } finally {
      for (const controller of controllers) controller.abort();
    }
  });
});
