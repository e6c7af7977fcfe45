// obs-bridge against a real, provisioned OBS under Xvfb, a real nginx RTMP sink, real ingest and
// nats-server, inside the private network namespace.
import { spawnSync } from 'node:child_process';
import {
  armEvent,
  collectEvents,
  grayRaster,
  nextEvent,
  pixelDifference,
  probeUntilAudioAndVideo,
  startReconnectingFeed,
  startStack,
  type TestStack,
  waitFor,
} from '@irlkit/test-kit';
import OBSWebSocket from 'obs-websocket-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let stack: TestStack;
let observer: TestStack['observer'];
let obs: TestStack['obs'];
let sink: TestStack['sink'];
let srtPort: number;
let apiPort: number;
let API_TOKEN: string;

beforeAll(async () => {
  stack = await startStack({ bridgeEnv: { BRIDGE_SETTINGS_BUCKET: 'obs_test' }, obsEnv: { OBS_FEED_AUDIO_DELAY_MS: '25' } });
  ({ observer, obs, sink, srtPort, apiPort, apiToken: API_TOKEN } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

describe('OBS provisioned by the desktop service', () => {
  it('starts with the websocket on, no first-run wizard, and the five scenes', async () => {
    const state = await nextEvent(observer, 'obs.state', (s) => s.reachable, 'a reachable obs.state');
    for (const scene of ['Live', 'Low', 'Offline', 'Starting', 'Privacy']) expect(state.scenes).toContain(scene);
    const windows = spawnSync('xwininfo', ['-root', '-tree'], { env: { ...process.env, DISPLAY: obs.config.display }, encoding: 'utf8' }).stdout;
    expect(windows).toMatch(/OBS 29/);
    expect(windows).not.toMatch(/Wizard/i);
  });

  it("loads the feed input's audio sync offset from configuration (OBS_FEED_AUDIO_DELAY_MS)", async () => {
    const ws = new OBSWebSocket();
    await ws.connect(obs.wsUrl, obs.password);
    try {
      // The bridge's audio anchor moves it by 1 ms for 0.2 s now and then: it comes back to the configured one.
      const read = async () => (await ws.call('GetInputAudioSyncOffset', { inputName: 'SRT feed' })).inputAudioSyncOffset;
      await expect.poll(read, { timeout: 3000, interval: 100 }).toBe(25);
    } finally {
      await ws.disconnect();
    }
  });
});

describe('obs-bridge', () => {
  it('shows the ingest feed in the Live scene: screenshots of the configured width whose pixels change', async () => {
    // Like a phone, the sender retries if its first handshake times out (OBS is still busy starting).
    const feed = startReconnectingFeed({ port: srtPort, bitrateKbps: 1500, latencyMs: 500 });
    try {
      await nextEvent(observer, 'obs.state', (s) => s.programScene === 'Live', 'the switcher to put Live on program', 30_000);
      const shots = collectEvents(observer, 'obs.screenshot');
      await waitFor(() => shots.items.length >= 3, 'three screenshots', 15_000);
      shots.stop();
      const [a, b, c] = shots.items.slice(-3);
      expect(a?.width).toBe(640);
      expect(Math.abs((a?.height as number) - (640 * 480) / 854)).toBeLessThan(1); // the canvas aspect
      const diff = Math.max(
        pixelDifference(grayRaster(a?.data as string), grayRaster(b?.data as string)),
        pixelDifference(grayRaster(b?.data as string), grayRaster(c?.data as string)),
      );
      expect(diff).toBeGreaterThan(1);
    } finally {
      await feed.stop();
    }
  });

  it('takes preview screenshots only while a dashboard page is open: none once the last closes, one at once when a page opens', async () => {
    const { viewer } = stack;
    viewer.close();
    try {
      await new Promise((r) => setTimeout(r, 1500)); // a screenshot already asked of OBS lands
      const shots = collectEvents(observer, 'obs.screenshot');
      await new Promise((r) => setTimeout(r, 4000)); // four intervals of OBS_SCREENSHOT_INTERVAL_MS
      shots.stop();
      expect(shots.items).toHaveLength(0);
      const first = await armEvent(observer, 'obs.screenshot', () => true, 'a screenshot once a page opens', 5000);
      const openedAt = Date.now();
      viewer.open();
      expect((await first.next).receivedAt - openedAt).toBeLessThan(1500);
    } finally {
      viewer.open();
    }
  });

  it('starts streaming to the RTMP sink (H.264 + AAC) and stops, with obs.state showing both', async () => {
    const streaming = nextEvent(observer, 'obs.state', (s) => s.streaming, 'obs.state streaming', 20_000);
    expect(await observer.request('stream.start', {})).toEqual({ ok: true });
    await streaming;
    const started = Date.now();
    const streams = await probeUntilAudioAndVideo(sink.playUrl('test'), 'ffprobe to read video and audio from the sink', 15_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(streams.find((s) => s.codec_type === 'video')?.codec_name).toBe('h264');
    expect(streams.find((s) => s.codec_type === 'audio')?.codec_name).toBe('aac');
    const stopped = nextEvent(observer, 'obs.state', (s) => !s.streaming, 'obs.state not streaming', 20_000);
    expect(await observer.request('stream.stop', {})).toEqual({ ok: true });
    await stopped;
  });

  it('mutes, sets scenes, and answers bad requests with readable errors', async () => {
    const muted = nextEvent(observer, 'obs.state', (s) => s.micMuted === true, 'mic muted in obs.state');
    expect(await observer.request('audio.mute', { muted: true })).toEqual({ ok: true, result: { input: 'SRT feed', muted: true } });
    await muted;
    const unmuted = nextEvent(observer, 'obs.state', (s) => s.micMuted === false, 'mic unmuted in obs.state');
    await observer.request('audio.mute', { muted: false });
    await unmuted;

    const privacy = nextEvent(observer, 'obs.state', (s) => s.programScene === 'Privacy', 'Privacy on program');
    expect(await observer.request('scene.set', { scene: 'Privacy' })).toEqual({ ok: true });
    await privacy;
    expect(await observer.request('scene.set', { scene: 'Nope' })).toEqual({ ok: false, error: 'no scene named "Nope"' });
    const bad = await observer.request('audio.mute', { muted: 'loud' } as never);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/invalid audio.mute request: muted/);
    const raw = await observer.nc.request('irl.main.cmd.scene.set', new TextEncoder().encode('not json'), { timeout: 5000 });
    expect(JSON.parse(new TextDecoder().decode(raw.data))).toEqual({ ok: false, error: 'invalid scene.set request: not JSON' });
    expect(await observer.request('audio.mute', { input: 'Ghost', muted: true })).toEqual({ ok: false, error: 'muting Ghost failed: no input named "Ghost"' });
    await observer.request('scene.set', { scene: 'Offline' });
  });

  it('skips a scene whose name the contract cannot carry: obs.state stays valid and the dashboard keeps OBS', async () => {
    // Someone on the desktop creates a scene with a 300-character name and puts it on program.
    const longName = `Scene ${'x'.repeat(294)}`;
    const desktop = new OBSWebSocket();
    await desktop.connect(obs.wsUrl, obs.password);
    try {
      const created = Date.now();
      const listed = nextEvent(
        observer,
        'obs.state',
        (s) => s.reachable && s.scenes.includes('Live') && s.ts > created + 1500,
        'a valid obs.state after the scene was created',
        10_000,
      );
      await desktop.call('CreateScene', { sceneName: longName });
      const state = await listed;
      expect(state.scenes).not.toContain(longName);
      for (const scene of ['Live', 'Low', 'Offline', 'Starting', 'Privacy']) expect(state.scenes).toContain(scene);
      const onProgram = nextEvent(
        observer,
        'obs.state',
        (s) => s.reachable && s.programScene === null,
        'obs.state with the over-long program scene shown as unknown',
        10_000,
      );
      await desktop.call('SetCurrentProgramScene', { sceneName: longName });
      await onProgram;
      // A scene picked on the desktop is the streamer's: the switcher (whose feed is offline) leaves it on program.
      const after = collectEvents(observer, 'obs.state');
      await new Promise((resolve) => setTimeout(resolve, 3000));
      after.stop();
      expect(after.items.length).toBeGreaterThan(1);
      expect(after.items.map((s) => s.programScene)).toEqual(after.items.map(() => null));
      // The switcher's scenes still work.
      const back = nextEvent(observer, 'obs.state', (s) => s.programScene === 'Offline', 'Offline back on program', 10_000);
      expect(await observer.request('scene.set', { scene: 'Offline' })).toEqual({ ok: true });
      await back;
    } finally {
      await desktop.call('RemoveScene', { sceneName: longName }).catch(() => {});
      await desktop.disconnect();
    }
  });

  it('guards the REST API with the bearer token', async () => {
    const url = `http://127.0.0.1:${apiPort}/api/commands/scene.set`;
    const body = JSON.stringify({ scene: 'Starting' });
    const headers = { 'content-type': 'application/json' };
    expect((await fetch(url, { method: 'POST', headers, body })).status).toBe(401);
    expect((await fetch(url, { method: 'POST', headers: { ...headers, authorization: 'Bearer wrong' }, body })).status).toBe(401);
    const ok = await fetch(url, { method: 'POST', headers: { ...headers, authorization: `Bearer ${API_TOKEN}` }, body });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true });
    const invalid = await fetch(url, { method: 'POST', headers: { ...headers, authorization: `Bearer ${API_TOKEN}` }, body: '{"scene":5}' });
    expect(invalid.status).toBe(400);
    const health = await fetch(`http://127.0.0.1:${apiPort}/healthz`);
    expect(await health.json()).toMatchObject({ ok: true, obs: true, nats: true });
    expect(await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text()).toMatch(/irlkit_obs_reachable 1/);
    expect((await fetch(`http://127.0.0.1:${apiPort}/docs/json`)).status).toBe(200);
    await observer.request('scene.set', { scene: 'Offline' });
  });

  it('reports OBS unreachable within 2 s of a kill, and resumes after the supervisor restarts it', async () => {
    const pid = obs.app.runtime.obs.pid as number;
    const down = await armEvent(observer, 'obs.state', (s) => !s.reachable, 'obs.state unreachable', 5000);
    const restarted = await armEvent(observer, 'process', (e) => e.child === 'obs' && e.event === 'started', 'OBS restarted', 20_000);
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    expect((await down.next).receivedAt - killedAt).toBeLessThan(2000);
    await restarted.next;
    await nextEvent(observer, 'obs.state', (s) => s.reachable && s.scenes.includes('Live'), 'OBS reachable again', 60_000);
  });
});
