// The desktop's door (xpra-door.py, the real script under python3) in front of an HTTP server that
// accepts websocket upgrades like xpra does: password attempts beyond the burst get 429, files pass.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, waitFor } from '@irlkit/test-kit';
import { afterEach, expect, it } from 'vitest';

const door = fileURLToPath(new URL('../xpra-door.py', import.meta.url));
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Sends one request and returns the HTTP status of the answer (0 when the connection closed without one). */
function statusOf(port: number, upgrade: boolean, forwardedFor?: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let head = '';
    socket.once('connect', () =>
      socket.write(
        (upgrade
          ? 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'
          : 'GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n') +
          (forwardedFor === undefined ? '' : `X-Forwarded-For: ${forwardedFor}\r\n`) +
          '\r\n',
      ),
    );
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (status) {
        socket.destroy();
        resolve(Number(status[1]));
      }
    });
    socket.once('error', () => resolve(0));
    socket.once('close', () => resolve(0));
  });
}

/** The real door in front of a stand-in for xpra (101 for a websocket upgrade, 200 for a file). */
async function startDoor(env: Record<string, string> = {}): Promise<{ port: number; log: () => string }> {
  const upstream: Server = createServer((_req, res) => res.end('ok'));
  upstream.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
  const upstreamPort = await freeTcpPort();
  await new Promise<void>((resolve) => upstream.listen(upstreamPort, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
  const port = await freeTcpPort();
  const child: ChildProcess = spawn('python3', [door, '127.0.0.1', String(port), String(upstreamPort)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  cleanups.push(() => {
    child.kill();
  });
  await waitFor(() => log.includes('listening'), `the door to listen (${log})`, 10_000, 50);
  return { port, log: () => log };
}

it('answers 429 to websocket logins beyond a burst of 5 per address, and still serves plain HTTP', async () => {
  const { port, log } = await startDoor();
  const statuses: number[] = [];
  // A forged X-Forwarded-For from a client that is no trusted proxy changes nothing.
  for (let i = 0; i < 8; i++) statuses.push(await statusOf(port, true, `203.0.113.${i}`));
  expect(statuses).toEqual([101, 101, 101, 101, 101, 429, 429, 429]);
  expect(await statusOf(port, false)).toBe(200); // the client's files still load
  expect(log()).toMatch(/login attempt refused \(too many\) address=127\.0\.0\.1/);
});

it('behind a trusted proxy (Caddy in compose) counts each client the proxy names: a guesser does not lock the streamer out', async () => {
  const { port, log } = await startDoor({ DESKTOP_TRUSTED_PROXIES: '127.0.0.1,10.0.0.0/8' });
  const guesser: number[] = [];
  // The guesser's own X-Forwarded-For entry comes first; the proxy appends the address it saw.
  for (let i = 0; i < 7; i++) guesser.push(await statusOf(port, true, `198.51.100.${i}, 203.0.113.7`));
  expect(guesser).toEqual([101, 101, 101, 101, 101, 429, 429]);
  expect(log()).toMatch(/login attempt refused \(too many\) address=203\.0\.113\.7/);
  // The streamer, from another address, still gets in; an IPv6 client is counted by its /64.
  expect(await statusOf(port, true, '192.0.2.10')).toBe(101);
  expect(await statusOf(port, true, '2001:db8:1:2::5, 10.1.2.3')).toBe(101);
});
