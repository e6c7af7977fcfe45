// A real, provisioned OBS for tests: the desktop service (Xvfb + OBS) on temp dirs, a free display,
// a free websocket port. Tests that use it run inside the private network namespace.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@irlkit/shared';
import { buildApp, type DesktopApp } from '../../services/desktop/src/app.ts';
import { type DesktopConfig, desktopConfig } from '../../services/desktop/src/config.ts';
import { testBus } from './bus.ts';
import type { TestNats } from './nats-server.ts';
import { freeTcpPort } from './ports.ts';
import { testLogLevel } from './wait.ts';

export interface TestObs {
  app: DesktopApp;
  config: DesktopConfig;
  wsUrl: string;
  password: string;
  configDir: string;
  stop(): Promise<void>;
}

/** An X display number no Xvfb on this machine uses yet. */
export function freeDisplay(): string {
  const used = new Set(readdirSync('/tmp/.X11-unix', { withFileTypes: true }).map((e) => e.name));
  for (let n = 90 + Math.floor(Math.random() * 100); n < 400; n++) if (!used.has(`X${n}`)) return `:${n}`;
  throw new Error('no free X display');
}

export async function startObs(nats: TestNats, env: Record<string, string> = {}): Promise<TestObs> {
  // OBS's websocket binds every interface and the tests use a fixed password: never outside the
  // private network namespace that ./irlkit test (scripts/in-netns.sh) puts the suite in.
  if (process.env.IRL_IN_NETNS !== '1') {
    throw new Error('tests that start OBS run inside a private network namespace: use ./irlkit test or scripts/in-netns.sh npx vitest run …');
  }
  const configDir = mkdtempSync(join(tmpdir(), 'irlkit-obs-'));
  const port = await freeTcpPort();
  const password = 'test-obs-password';
  let display: string;
  try {
    display = freeDisplay();
  } catch {
    display = ':91';
  }
  const config = desktopConfig.load({
    envFile: false,
    source: {
      NATS_URL: nats.url,
      NATS_PASSWORD: nats.password,
      OBS_WS_PORT: String(port),
      OBS_WS_PASSWORD: password,
      OBS_CONFIG_DIR: configDir,
      DESKTOP_DISPLAY: display,
      OBS_X264_PRESET: 'ultrafast',
      ...env,
    },
  });
  const bus = await testBus(nats, config.common.streamId, 'desktop');
  const app = buildApp({ config, bus, log: createLogger('desktop-test', testLogLevel) });
  // OBS killed by a fault of its own (not by a test's SIGKILL/SIGTERM): its files are kept to read after the run.
  let crashedBy: string | null = null;
  bus.subscribe('process', (e) => {
    if (e.child === 'obs' && e.event === 'exited' && e.signal && ['SIGSEGV', 'SIGABRT', 'SIGBUS', 'SIGILL', 'SIGFPE'].includes(e.signal)) crashedBy = e.signal;
  });
  await app.start();
  return {
    app,
    config,
    wsUrl: `ws://127.0.0.1:${port}`,
    password,
    configDir,
    stop: async () => {
      await app.stop();
      await bus.closeConnection();
      // IRL_TEST_KEEP_OBS=1 keeps OBS's configuration and logs (obs-studio/logs/) to read after a run; so does
      // a crash of OBS during the run (the log of the session that crashed).
      if (process.env.IRL_TEST_KEEP_OBS === '1' || crashedBy)
        process.stdout.write(`OBS's files kept${crashedBy ? ` (OBS died of ${crashedBy})` : ''}: ${configDir}\n`);
      else rmSync(configDir, { recursive: true, force: true });
    },
  };
}
