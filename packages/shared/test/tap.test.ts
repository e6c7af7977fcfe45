// The tap as a real process against a real nats-server: prints a message, flags an invalid one.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNats, type TestNats, testBus, waitFor } from '../../../test/kit/index.ts';
import { validEvents } from './samples.ts';

let nats: TestNats;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats?.stop();
});

it('prints a published message, flags an invalid one and summarises screenshots', async () => {
  const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
  const tap = spawn(tsx, [fileURLToPath(new URL('../src/tap.ts', import.meta.url))], {
    env: { ...process.env, NATS_URL: nats.url, NATS_USER: nats.user, NATS_PASSWORD: nats.password, IRL_ENV_FILE: '/nonexistent' },
  });
  let out = '';
  let err = '';
  tap.stdout.on('data', (d: Buffer) => (out += d.toString()));
  tap.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const bus = await testBus(nats);
  try {
    await waitFor(() => err.includes('listening on irl.>'), 'the tap to subscribe', 20_000);
    bus.publish('log', { ts: Date.now(), level: 'info', source: 'test', message: 'tap me' });
    bus.nc.publish('irl.main.ingest.stats', new TextEncoder().encode('{"connected":"yes"}'));
    bus.publish('obs.screenshot', { ...validEvents['obs.screenshot'], data: 'A'.repeat(40_000) });
    await waitFor(() => out.includes('tap me') && out.includes('INVALID') && out.includes('jpeg 640x360'), 'tap output');
    expect(out).toMatch(/irl\.main\.log .*"message":"tap me"/);
    expect(out).toMatch(/irl\.main\.ingest\.stats INVALID\(.*connected/);
    expect(out).toMatch(/irl\.main\.obs\.screenshot jpeg 640x360 29 KiB/);
    expect(out).not.toMatch(/AAAAAAAAAA/);
  } finally {
    const exited = new Promise((resolve) => tap.once('exit', resolve));
    tap.kill('SIGTERM');
    await exited;
    await bus.closeConnection();
  }
});
