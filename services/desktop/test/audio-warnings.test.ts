// OBS's audio warnings reach the bus: the desktop service, running a real Xvfb and a stand-in for OBS
// that writes OBS 29's own log lines, publishes them as `process` warnings and timeline entries.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@irlkit/shared';
import { collectEvents, freeDisplay, startNats, type TestNats, testBus, waitFor } from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { desktopConfig } from '../src/config.ts';

let nats: TestNats;
let dir: string;
beforeAll(async () => {
  nats = await startNats();
  dir = mkdtempSync(join(tmpdir(), 'irlkit-audio-warnings-'));
});
afterAll(async () => {
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('OBS audio warnings', () => {
  it('become process warnings and timeline entries', async () => {
    const obs = join(dir, 'obs');
    writeFileSync(
      obs,
      `#!/bin/sh
echo "info: adding 938 milliseconds of audio buffering, total audio buffering is now 960 milliseconds (source: SRT feed)"
echo "warning: Max audio buffering reached!" >&2
echo "info: an ordinary line"
exec sleep 60
`,
    );
    chmodSync(obs, 0o755);
    const config = desktopConfig.load({
      envFile: false,
      source: {
        NATS_URL: nats.url,
        NATS_PASSWORD: nats.password,
        OBS_BINARY: obs,
        OBS_CONFIG_DIR: join(dir, 'config'),
        DESKTOP_DISPLAY: freeDisplay(),
        OBS_WS_PASSWORD: 'test-obs-password',
      },
    });
    const bus = await testBus(nats, 'main', 'desktop');
    const observer = await testBus(nats);
    const processes = collectEvents(observer, 'process');
    const timeline = collectEvents(observer, 'log');
    await observer.nc.flush();
    const app = buildApp({ config, bus, log: createLogger('desktop-test', 'silent') });
    try {
      await app.start();
      await waitFor(() => processes.items.filter((e) => e.event === 'warning').length >= 2, 'two OBS audio warnings on the bus', 10_000);
      const warnings = processes.items.filter((e) => e.event === 'warning');
      expect(warnings.map((w) => [w.service, w.child, w.detail])).toEqual([
        ['desktop', 'obs', 'OBS added 938 ms of audio buffering, now 960 ms (source: SRT feed): the stream runs that much later'],
        ['desktop', 'obs', 'OBS reached its maximum audio buffering: late audio is now dropped'],
      ]);
      await waitFor(() => timeline.items.filter((e) => e.level === 'warn').length >= 2, 'two timeline warnings', 5000);
      expect(timeline.items.filter((e) => e.level === 'warn').map((e) => e.message)).toContain(
        'OBS reached its maximum audio buffering: late audio is now dropped',
      );
    } finally {
      processes.stop();
      timeline.stop();
      await app.stop();
      await bus.closeConnection();
      await observer.closeConnection();
    }
  });
});
