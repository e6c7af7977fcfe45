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
function statusOf(port: number, upgrade: boolean): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let head = '';
    socket.once('connect', () =>
      socket.write(
        upgrade
          ? 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
          : 'GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
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

it('answers 429 to websocket logins beyond a burst of 5 per address, and still serves plain HTTP', async () => {
  // Stands in for xpra: 101 for a websocket upgrade, 200 for a file.
  const upstream: Server = createServer((_req, res) => res.end('ok'));
  upstream.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
  const upstreamPort = await freeTcpPort();
  await new Promise<void>((resolve) => upstream.listen(upstreamPort, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
  const port = await freeTcpPort();
  const child: ChildProcess = spawn('python3', [door, '127.0.0.1', String(port), String(upstreamPort)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  cleanups.push(() => {
    child.kill();
  });
  await waitFor(() => log.includes('listening'), `the door to listen (${log})`, 10_000, 50);

  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push(await statusOf(port, true));
  expect(statuses).toEqual([101, 101, 101, 101, 101, 429, 429, 429]);
  expect(await statusOf(port, false)).toBe(200); // the client's files still load
  expect(log).toMatch(/login attempt refused \(too many\) address=127\.0\.0\.1/);
});
