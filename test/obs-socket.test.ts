// OBS's websocket failing under the bridge, on a real OBS behind a relay that can freeze and drop the
// connection: a call in flight when the socket goes away is failed at once (the preview comes back as
// soon as OBS answers again), a drop during the state read after connecting does not leave the bridge
// disconnected for good, and neither gets a healthy OBS restarted by the watchdog.
import { armEvent, nextEvent, startStack, type TestStack } from '@irlkit/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({ obsProxy: true, bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'obssocket', OBS_SCREENSHOT_INTERVAL_MS: '500' } });
});
afterAll(async () => {
  await stack?.stop();
});

it('a screenshot in flight when the socket drops: the preview resumes within 3 s of OBS answering again', async () => {
  const { observer, obs } = stack;
  const proxy = stack.obsProxy!;
  await nextEvent(observer, 'obs.screenshot', () => true, 'a first preview frame', 15_000);
  const pid = obs.app.runtime.obs.pid;
  await proxy.freezeOn('GetSourceScreenshot');
  const down = await armEvent(observer, 'obs.state', (s) => !s.reachable, 'the bridge to see OBS gone', 10_000);
  proxy.dropAll();
  await down.next;
  const back = await nextEvent(observer, 'obs.state', (s) => s.reachable, 'OBS reachable again', 15_000);
  const frame = await nextEvent(observer, 'obs.screenshot', (f) => f.ts > back.ts, 'a preview frame after the reconnect', 10_000);
  expect(frame.receivedAt - back.receivedAt).toBeLessThan(3000);
  expect(obs.app.runtime.obs.pid).toBe(pid); // a healthy OBS is never restarted
});

it('a drop during the state read after connecting: the bridge connects again, OBS is not restarted', async () => {
  const { observer, obs } = stack;
  const proxy = stack.obsProxy!;
  const pid = obs.app.runtime.obs.pid;
  const frozen = proxy.freezeOn('GetSceneList');
  const down = await armEvent(observer, 'obs.state', (s) => !s.reachable, 'the bridge to see OBS gone', 10_000);
  proxy.dropAll(); // the reconnect's state read is the next GetSceneList
  await down.next;
  await frozen;
  await new Promise((r) => setTimeout(r, 500));
  proxy.dropAll();
  await nextEvent(observer, 'obs.state', (s) => s.reachable, 'OBS reachable again after the drop during the state read', 15_000);
  await nextEvent(observer, 'obs.screenshot', () => true, 'the preview after the reconnect', 10_000);
  // Past the watchdog's timeout (10 s): it had nothing to restart.
  await new Promise((r) => setTimeout(r, 11_000));
  expect(obs.app.runtime.obs.pid).toBe(pid);
  expect(obs.app.runtime.obs.restarts).toBe(0);
});
