// The desktop container's healthcheck (it runs OBS), exactly as the Dockerfile declares it, against a real OBS: healthy
// while OBS answers, unhealthy (within the check's time limit) once OBS is frozen with SIGSTOP, which a
// bare TCP connect would not notice.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNats, startObs, type TestNats, type TestObs } from '@irlkit/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';

const desktopDir = join(import.meta.dirname, '..');
const root = join(desktopDir, '../..');

/** The HEALTHCHECK CMD of the Dockerfile's desktop stage. */
function obsHealthcheck(): string[] {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const stage = dockerfile.slice(dockerfile.indexOf('AS desktop\n'));
  const cmd = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(stage)?.[1];
  if (!cmd) throw new Error('no HEALTHCHECK CMD in the desktop stage of the Dockerfile');
  // The image's /usr/local/bin/irlkit-secrets is services/init/with-secrets.sh (the Dockerfile copies it).
  return (JSON.parse(cmd) as string[]).map((part) => (part === '/usr/local/bin/irlkit-secrets' ? join(root, 'services/init/with-secrets.sh') : part));
}

let nats: TestNats;
let obs: TestObs;

beforeAll(async () => {
  nats = await startNats();
  obs = await startObs(nats);
}, 60_000);
afterAll(async () => {
  await obs?.stop();
  await nats?.stop();
});

function runCheck(): { status: number | null; ms: number } {
  const [command, ...args] = obsHealthcheck();
  const started = Date.now();
  // WORKDIR of the desktop image is services/desktop; the container's environment names the port and password.
  const result = spawnSync(command as string, args, {
    cwd: desktopDir,
    env: { ...process.env, OBS_WS_PORT: String(obs.config.provision.websocket.port), OBS_WS_PASSWORD: obs.password },
    timeout: 5000, // the Dockerfile's --timeout
  });
  return { status: result.status, ms: Date.now() - started };
}

it('is healthy while OBS answers, and unhealthy once OBS is frozen', async () => {
  let healthy = false;
  const deadline = Date.now() + 45_000;
  while (!healthy && Date.now() < deadline) {
    healthy = runCheck().status === 0;
    if (!healthy) await new Promise((r) => setTimeout(r, 500));
  }
  expect(healthy).toBe(true);
  const pid = obs.app.runtime.obs.pid as number;
  process.kill(pid, 'SIGSTOP');
  try {
    const frozen = runCheck();
    expect(frozen.status).not.toBe(0);
    expect(frozen.ms).toBeLessThan(5500);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  expect(runCheck().status).toBe(0);
}, 90_000);
