// The control plane's quiet faults on the real stack (OBS behind a relay that can cut it off and that
// records every request the bridge sends): a hung OBS, commands sent while OBS is down, the whole stack
// restarting while live (with and without resuming), and nats-server restarting while live.
import { armEvent, nextEvent, startReconnectingFeed, testBus, waitFor } from '@irlkit/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LiveStack, startLive } from './faults/live.ts';

let stack: LiveStack;

beforeAll(async () => {
  stack = await startLive({ obsProxy: true, bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'control_plane' } });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const obsPid = () => stack.obs.app.runtime.obs.pid;
const waitNewObs = (old: number | undefined) =>
  waitFor(() => stack.obs.app.runtime.obs.running && obsPid() !== old, 'OBS started again by the desktop service', 20_000);

it('a hung OBS (SIGSTOP) while Live is detected, restarted, streams again, and is back on Live once the feed moves', async () => {
  const { observer } = stack;
  const pid = obsPid();
  if (!pid) throw new Error('OBS has no pid');
  const hung = await armEvent(observer, 'process', (e) => e.service === 'obs-bridge' && e.event === 'unhealthy', 'the bridge to report OBS hung', 20_000);
  const stoppedAt = Date.now();
  process.kill(pid, 'SIGSTOP');
  try {
    const report = await hung.next;
    expect(report.detail).toMatch(/hung/);
    expect(report.receivedAt - stoppedAt).toBeLessThan(10_000);
    const back = await nextEvent(observer, 'obs.state', (s) => s.reachable && s.streaming, 'OBS streaming again after the hang', 60_000);
    expect(obsPid()).not.toBe(pid);
    expect(back.receivedAt - stoppedAt).toBeLessThan(40_000);
    // The new OBS opens its feed input afresh: the stream resumes on Offline until that input's picture
    // moves, then Live, with the stream still on.
    const live = await nextEvent(observer, 'obs.state', (s) => s.reachable && s.streaming && s.programScene === 'Live', 'Live on program again', 30_000);
    expect(live.receivedAt - back.receivedAt).toBeLessThan(20_000);
  } finally {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {}
  }
}, 90_000);

it('stream.stop and scene.set Privacy while OBS is down are queued; after its return no StartStream is sent and Privacy is on program', async () => {
  const { observer } = stack;
  const proxy = stack.obsProxy!;
  const pid = obsPid();
  const gone = await armEvent(observer, 'obs.state', (s) => !s.reachable, 'the bridge to see OBS gone', 10_000);
  proxy.block(true);
  await gone.next;
  process.kill(pid!, 'SIGKILL'); // OBS crashes; its supervisor starts a fresh, idle one
  const sentBefore = proxy.requests.length;
  expect(await observer.request('stream.stop', {})).toEqual({ ok: true, queued: 'queued: OBS is restarting' });
  expect(await observer.request('scene.set', { scene: 'Privacy' })).toEqual({ ok: true, queued: 'queued: OBS is restarting' });
  await waitNewObs(pid);
  proxy.block(false);
  await nextEvent(observer, 'obs.state', (s) => s.reachable && s.programScene === 'Privacy', 'Privacy on program once OBS is back', 30_000);
  await new Promise((r) => setTimeout(r, 5000));
  expect(proxy.requests.slice(sentBefore)).not.toContain('StartStream');
  const now = await nextEvent(observer, 'obs.state', () => true, 'a heartbeat');
  expect(now).toMatchObject({ reachable: true, streaming: false, programScene: 'Privacy' });
}, 90_000);

it('the whole stack restarting while live resumes the stream on the same scene; with the setting off it stays off', async () => {
  const { observer } = stack;
  const proxy = stack.obsProxy!;
  expect((await observer.request('stream.start', {})).ok).toBe(true);
  await nextEvent(observer, 'obs.state', (s) => s.streaming && s.programScene === 'Privacy', 'streaming on Privacy', 20_000);

  const restartAll = async (env: Record<string, string> = {}) => {
    await stack.restartBridge({}); // first the bridge goes …
    const pid = obsPid();
    process.kill(pid!, 'SIGKILL'); // … then OBS (a reboot, an upgrade)
    await waitNewObs(pid);
    await stack.restartBridge(env);
  };
  const restartedAt = Date.now();
  await restartAll();
  const back = await nextEvent(observer, 'obs.state', (s) => s.reachable && s.streaming, 'the stream resumed after the restart', 60_000);
  expect(back.programScene).toBe('Privacy');
  expect(back.receivedAt - restartedAt).toBeLessThan(60_000);

  const sentBefore = proxy.requests.length;
  await restartAll({ OBS_RESUME_AFTER_RESTART: 'false' });
  await nextEvent(observer, 'obs.state', (s) => s.reachable && s.programScene === 'Privacy', 'OBS back on Privacy after the second restart', 60_000);
  await new Promise((r) => setTimeout(r, 5000));
  expect(proxy.requests.slice(sentBefore)).not.toContain('StartStream');
  expect(stack.bridge.obs.isStreaming()).toBe(false);
}, 180_000);

it('nats-server restarted while live: services reconnect, a command sent right after is answered, the switcher still switches', async () => {
  const { observer, nats } = stack;
  expect((await observer.request('scene.set', { scene: 'Live' })).ok).toBe(true);
  await nats.restart();
  // Like a dashboard connecting the moment the server is back.
  const fresh = await testBus(nats, 'main', 'fresh');
  try {
    expect(await fresh.request('switcher.mode', { mode: 'auto' }, 10_000)).toMatchObject({ ok: true });
    for (const service of ['ingest', 'obs-bridge', 'desktop']) {
      await nextEvent(fresh, 'heartbeat', (h) => h.service === service, `a heartbeat of ${service} after the restart`, 15_000);
    }
    const offline = await armEvent(fresh, 'obs.state', (s) => s.programScene === 'Offline', 'the switcher to show Offline', 20_000);
    await stack.feed.kill9();
    await offline.next;
    const live = await armEvent(fresh, 'obs.state', (s) => s.programScene === 'Live', 'the switcher to show Live again', 30_000);
    // A phone calls again until the relay takes it (it lets the vanished sender time out first).
    const feed = startReconnectingFeed({ port: stack.srtPort, bitrateKbps: 1500, latencyMs: 500, width: 640, height: 360 });
    try {
      await live.next;
    } finally {
      await feed.stop();
    }
  } finally {
    await fresh.closeConnection();
  }
}, 90_000);
