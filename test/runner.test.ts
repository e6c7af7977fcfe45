// The native runner as a real process: starts nats-server and the services, the demo feed reaches
// ingest and goes live on OBS, the dashboard and the xpra desktop answer with the printed
// credentials, and SIGTERM stops everything it started.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bus, connectNats, silentLogger } from '@irlkit/shared';
import { expect, it } from 'vitest';
import { grayRaster, launchChromium, pixelSpread, portsEnv, runnerPorts, startRunner, waitFor } from './kit/index.ts';

/** Every process below `pid`, read from ps. */
function descendantsOf(pid: number): number[] {
  const rows = spawnSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of rows) {
      if (ppid === parent && !found.includes(child)) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

/** Still running: exists and is not a zombie waiting to be reaped. */
function isAlive(pid: number): boolean {
  const state = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
  return state !== '' && !state.startsWith('Z');
}

it('./irlkit up --demo starts, prints where things are, carries the demo feed, and stops cleanly', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'irlkit-state-'));
  const ports = await runnerPorts();
  const runner = startRunner(
    {
      ...portsEnv(ports),
      IRL_STATE_DIR: stateDir,
      IRL_PUBLIC_HOST: '127.0.0.1',
      IRL_ENV_FILE: '/nonexistent',
    },
    ['--demo'],
  );
  const out = () => runner.output();
  let descendants: number[] = [];
  try {
    await runner.explain(async () => {
      await waitFor(() => out().includes('irlkit is running'), 'the runner to print that it is running', 60_000);
      const secrets = readFileSync(join(stateDir, 'secrets.env'), 'utf8');
      const password = /^DASHBOARD_PASSWORD=(\S+)/m.exec(secrets)?.[1];
      expect(password).toBeTruthy();
      expect(out()).toContain(`Dashboard  http://127.0.0.1:${ports.DASHBOARD_PORT}   password: ${password}`);
      expect(out()).toContain(`srt://127.0.0.1:${ports.SRT_PORT}`);

      // Every service runs as its own NATS user; the operator's watches events and sends commands.
      const natsPassword = /NATS_OPERATOR_PASSWORD=(\S+)/.exec(secrets)?.[1];
      const nc = await connectNats(
        { url: `nats://127.0.0.1:${ports.NATS_PORT}`, user: 'operator', password: natsPassword, name: 'runner-test' },
        silentLogger(),
      );
      const bus = new Bus(nc, 'main', silentLogger());
      let connected = false;
      bus.subscribe('ingest.stats', (s) => {
        if (s.connected && s.bitrateKbps > 500) connected = true;
      });
      await waitFor(() => connected, 'the demo feed to arrive at ingest', 60_000);
      let live = false;
      bus.subscribe('switcher.state', (state) => {
        if (state.state === 'live' && state.scene === 'Live') live = true;
      });
      await waitFor(() => live, 'the demo feed to go live on OBS', 90_000);
      await nc.close();

      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${ports.DASHBOARD_PORT}/login`).catch(() => undefined))?.ok,
        'the dashboard to answer',
        60_000,
        500,
      );
      const login = await fetch(`http://127.0.0.1:${ports.DASHBOARD_PORT}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: `http://127.0.0.1:${ports.DASHBOARD_PORT}` },
        body: JSON.stringify({ password }),
      });
      expect(login.status).toBe(200);

      // The browser desktop: xpra's HTML5 client with the printed password shows OBS's window.
      const desktopPassword = /^DESKTOP_PASSWORD=(\S+)/m.exec(secrets)?.[1] as string;
      expect(out()).toContain(`Desktop    http://127.0.0.1:${ports.DESKTOP_PORT}   password: ${desktopPassword}`);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        const desktopUrl = `http://127.0.0.1:${ports.DESKTOP_PORT}/index.html?password=${encodeURIComponent(desktopPassword)}&sound=false&floating_menu=false`;
        await waitFor(async () => (await fetch(desktopUrl).catch(() => undefined))?.ok, 'xpra to serve its HTML5 client', 60_000, 500);
        await page.goto(desktopUrl, { waitUntil: 'load', timeout: 30_000 });
        await page.waitForSelector('#screen canvas', { timeout: 30_000 });
        await waitFor(
          async () => {
            const shot = await page.screenshot({ type: 'png', clip: { x: 0, y: 40, width: 1280, height: 760 } });
            return pixelSpread(grayRaster(shot.toString('base64'))) > 10;
          },
          'the desktop to show OBS (not a blank screen)',
          30_000,
          1000,
        );
      } finally {
        await browser.close();
      }
    });
  } finally {
    descendants = descendantsOf(runner.process.pid as number);
    expect(await runner.stop()).toBe(0);
  }
  expect(out()).toContain('irlkit: stopped');
  // Nothing the runner started is left behind: every process under it is gone.
  expect(descendants.length).toBeGreaterThan(5);
  const survivors = descendants.filter(isAlive).map((pid) => spawnSync('ps', ['-o', 'pid=,args=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim());
  expect(survivors).toEqual([]);
  expect(spawnSync('pgrep', ['-f', stateDir], { encoding: 'utf8' }).stdout.trim()).toBe('');
});
