// The native runner as a real process: starts nats-server and the services, the demo feed reaches
// ingest, the dashboard URL and credentials are printed, and SIGTERM stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bus, connectNats, silentLogger } from '@irlkit/shared';
import { expect, it } from 'vitest';
import { freeTcpPort, freeUdpPort, waitFor } from './kit/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

it('./irlkit up --demo starts, prints where things are, carries the demo feed, and stops cleanly', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'irlkit-state-'));
  const ports = {
    NATS_PORT: await freeTcpPort(),
    SRT_PORT: await freeUdpPort(),
    SRTLA_PORT: await freeUdpPort(),
    DASHBOARD_PORT: await freeTcpPort(),
    DESKTOP_PORT: await freeTcpPort(),
    INGEST_OUTPUT_PORT: await freeUdpPort(),
    INGEST_RELAY_PORT: await freeUdpPort(),
    OBS_WS_PORT: await freeTcpPort(),
    BRIDGE_PORT: await freeTcpPort(),
  };
  const runner = spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'scripts/runner.ts'), '--demo'], {
    cwd: root,
    env: {
      ...process.env,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      IRL_STATE_DIR: stateDir,
      IRL_PUBLIC_HOST: '127.0.0.1',
      IRL_ENV_FILE: '/nonexistent',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  runner.stdout.on('data', (d: Buffer) => (out += d.toString()));
  runner.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => runner.once('exit', (code) => resolve(code)));
  try {
    await waitFor(() => out.includes('irlkit is running'), 'the runner to print that it is running', 60_000);
    const secrets = readFileSync(join(stateDir, 'secrets.env'), 'utf8');
    const password = /DASHBOARD_PASSWORD=(\S+)/.exec(secrets)?.[1];
    expect(password).toBeTruthy();
    expect(out).toContain(`Dashboard  http://127.0.0.1:${ports.DASHBOARD_PORT}   password: ${password}`);
    expect(out).toContain(`srt://127.0.0.1:${ports.SRT_PORT}`);

    const natsPassword = /NATS_PASSWORD=(\S+)/.exec(secrets)?.[1];
    const nc = await connectNats({ url: `nats://127.0.0.1:${ports.NATS_PORT}`, user: 'irlkit', password: natsPassword, name: 'runner-test' }, silentLogger());
    const bus = new Bus(nc, 'main', silentLogger());
    let connected = false;
    bus.subscribe('ingest.stats', (s) => {
      if (s.connected && s.bitrateKbps > 500) connected = true;
    });
    await waitFor(() => connected, 'the demo feed to arrive at ingest', 60_000);
    await nc.close();
  } finally {
    runner.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
  expect(out).toContain('irlkit: stopped');
  // Nothing the runner started is left behind.
  const leftovers = spawnSync('pgrep', ['-f', stateDir], { encoding: 'utf8' }).stdout.trim();
  expect(leftovers).toBe('');
});
