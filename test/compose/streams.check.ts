// Several streams under docker compose (run by test/compose/run.sh after compose.check.ts, on the same stack and
// images): `./irlkit compose-streams` turns the one-stream stack into two streams at 240p (alice, bob), each fed by
// its own ffmpeg with its own stream id through the one published SRT port: each Live on its own OBS, a killed
// sender takes only its own stream Offline, a streamer reaches only their own stream (the other stream's dashboard
// refuses their password and session over HTTPS; nats-server refuses their NATS user the other stream's events
// and commands), and a third stream added at runtime goes Live without re-creating or restarting any container
// of the others, nats or ingest. Prints one line per check; writes "passed failed skipped" to $IRL_COMPOSE_RESULT.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startReconnectingFeed, waitFor } from '@irlkit/test-kit';
import { streamContainers } from '../../scripts/compose-override.ts';
import { BusProbe } from './probe.ts';

const root = resolve(import.meta.dirname, '../..');
const need = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`streams.check.ts: ${name} must be set (run test/compose/run.sh)`);
  return value;
};
const compose = JSON.parse(need('IRL_COMPOSE')) as string[];
const project = need('IRL_COMPOSE_PROJECT');
const work = need('IRL_COMPOSE_WORK');
const generated = Object.fromEntries(
  readFileSync(need('IRL_COMPOSE_SECRETS'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
) as Record<string, string | undefined>;
const srtPassphrase = generated.SRT_PASSPHRASE as string;
const bridgeImage = need('IRL_BRIDGE_IMAGE');
const DOCKER = '/usr/bin/docker';
const HTTPS_PORT = 8444;

const results: Array<{ name: string; ok: boolean }> = [];
function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
async function check(name: string, body: () => Promise<void>): Promise<boolean> {
  const started = Date.now();
  try {
    await body();
    results.push({ name, ok: true });
    process.stdout.write(`  ✓ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    return true;
  } catch (error) {
    results.push({ name, ok: false });
    process.stdout.write(
      `  ✗ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n    ${String((error as Error).message)
        .split('\n')
        .join('\n    ')}\n`,
    );
    return false;
  }
}

const key = (id: string) => `${id}-${Math.random().toString(36).slice(2, 12)}`;
const streams = [
  { id: 'alice', srtKey: key('alice'), dashboardPassword: 'alice-own-password' },
  { id: 'bob', srtKey: key('bob'), rtmp: { url: 'rtmp://rtmp-sink/live', key: 'bob-sink-key-0123' } },
];
const carol = { id: 'carol', srtKey: key('carol') };
const listFile = join(work, 'streams.json');
/** The test's own additions for each stream's containers (no DNS beyond the compose network), beside the generated override. */
const testOverride = join(work, 'streams.test.yml');
const composeWithStreams = [...compose, '-f', 'docker-compose.streams.yml', '-f', testOverride];
writeFileSync(join(work, 'compose-streams.json'), JSON.stringify(composeWithStreams));

/** `./irlkit compose-streams` with the test's compose command: writes the override, then applies it. */
function composeStreams(list: Array<{ id: string }>): Promise<{ status: number | null; output: string }> {
  writeFileSync(listFile, JSON.stringify(list));
  const services = list.flatMap((s) => ['desktop', 'xpra', 'obs-bridge', 'dashboard'].map((c) => `${c}-${s.id}`));
  writeFileSync(
    testOverride,
    JSON.stringify({ version: '2.4', services: Object.fromEntries([...services, 'dashboard-operator'].map((name) => [name, { dns: '127.0.0.1' }])) }),
  );
  return new Promise((resolveRun) => {
    const child = spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'scripts/compose-streams.ts'), '--streams', listFile, '--', ...composeWithStreams], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('close', (status) => resolveRun({ status, output }));
  });
}
/** The last lines each of these services logged: what a failed check prints, since the one-stream containers run.sh dumps are gone. */
function logsOf(services: string[], lines = 40): string {
  const result = spawnSync(composeWithStreams[0] as string, [...composeWithStreams.slice(1), 'logs', '--no-color', `--tail=${lines}`, ...services], {
    cwd: root,
    encoding: 'utf8',
  });
  return `${result.stdout}${result.stderr}`.trim();
}
const state = () =>
  JSON.parse(readFileSync(join(root, '.irlkit-streams/state.json'), 'utf8')) as {
    operator: { natsPassword: string; dashboardPassword: string };
    streams: Record<string, { dashboardPassword: string; nats: Record<string, string> }>;
  };
/** A compose service's container: its id and when it last started (a re-created or restarted one differs). */
function container(service: string): string {
  const ids = spawnSync(
    DOCKER,
    ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${service}`],
    { encoding: 'utf8' },
  ).stdout.trim();
  if (!ids) return 'none';
  return spawnSync(DOCKER, ['inspect', '-f', '{{.Id}} {{.State.Status}} {{.State.StartedAt}}', ...ids.split('\n')], { encoding: 'utf8' }).stdout.trim();
}
/**
 * A sender that calls again whenever ffmpeg exits, as a phone or BELABOX does: ingest refuses a stream id it does
 * not serve yet (compose-streams has re-created ingest, or it has not read the new list), and a one-shot ffmpeg
 * would give up there for good.
 */
const feed = (stream: { srtKey: string }, still = false) =>
  startReconnectingFeed(
    {
      port: 9000,
      host: '127.0.0.1',
      passphrase: srtPassphrase,
      streamId: `live_${stream.srtKey}`,
      latencyMs: 1000,
      bitrateKbps: 800,
      width: 426,
      height: 240,
      ...(still ? { scene: 'noisy-still' as const } : {}),
    },
    500,
  );

const probes: BusProbe[] = [];
const probe = async (streamId: string, natsUser: string, natsPassword: string) => {
  const started = await BusProbe.start({ project, root, natsUser, natsPassword, bridgeImage, streamId });
  probes.push(started);
  return started;
};
/**
 * A test pattern at 240p comes out of x264 under the switcher's default Low thresholds (800/1500 kbit/s): each
 * stream's own thresholds are lowered over NATS (as the operator), as a streamer would for a low-bitrate setup.
 */
async function lowerThresholds(watcher: BusProbe): Promise<void> {
  await waitFor(
    async () => (await watcher.request('switcher.config', { lowEnterKbps: 150, lowLeaveKbps: 250 })).ok,
    "switcher.config to be answered by the stream's bridge",
    120_000,
    1000,
  );
}
const feeds: Array<ReturnType<typeof feed>> = [];
const live = (p: BusProbe | undefined) => p?.obsState?.reachable === true && p.obsState.programScene === 'Live';
/** A dashboard behind Caddy: a stream's own port, or the operator's on 443. */
const site = (port: number) => (port === 443 ? 'https://localhost' : `https://localhost:${port}`);
const login = (port: number, password: string) =>
  fetch(`${site(port)}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: site(port) },
    body: JSON.stringify({ password }),
  });
const timings: Record<string, number> = {};

const watch = new Map<string, BusProbe>();
try {
  const ok = await check(
    './irlkit compose-streams turns the one-stream stack into alice and bob (their own OBS, bridge, dashboard, desktop; the operator dashboard on 443)',
    async () => {
      const started = Date.now();
      const applied = await composeStreams(streams);
      assert(applied.status === 0, `compose-streams exited ${applied.status}:\n${applied.output.slice(-3000)}`);
      timings.applyTwoMs = Date.now() - started;
      for (const service of [...streamContainers('alice'), ...streamContainers('bob'), 'dashboard-operator'])
        assert(container(service).includes(' running '), `${service}: ${container(service)}`);
      for (const service of ['desktop', 'obs-bridge', 'dashboard', 'xpra', 'restream', 'chat'])
        assert(container(service) === 'none', `the one-stream ${service} is still there: ${container(service)}`);
    },
  );
  if (!ok) throw new Error('the streams did not start');
  const operatorNats = state().operator.natsPassword;
  for (const s of streams) watch.set(s.id, await probe(s.id, 'operator', operatorNats));
  for (const s of streams) await lowerThresholds(watch.get(s.id) as BusProbe);
  feeds.push(feed(streams[0] as (typeof streams)[0]), feed(streams[1] as (typeof streams)[1], true));

  await check('alice and bob, each fed by its own sender (own stream id, one SRT port), go Live on their own OBS', async () => {
    const started = Date.now();
    try {
      await waitFor(() => live(watch.get('alice')) && live(watch.get('bob')), 'both programs on Live', 240_000, 200);
    } catch (error) {
      const scene = (id: string) => watch.get(id)?.obsState?.programScene;
      throw new Error(
        `${(error as Error).message} (alice: ${scene('alice')}, bob: ${scene('bob')}; alice's sender, call ${feeds[0]?.starts}: ${feeds[0]?.current().stderr().slice(-300)}; bob's, call ${feeds[1]?.starts}: ${feeds[1]?.current().stderr().slice(-300)})\n` +
          logsOf(['ingest', 'desktop-alice', 'obs-bridge-alice', 'desktop-bob']),
      );
    }
    timings.bothLiveMs = Date.now() - started;
  });

  await check("killing alice's sender puts alice Offline and leaves bob Live", async () => {
    await feeds[0]?.kill9();
    const killedAt = Date.now();
    await waitFor(() => watch.get('alice')?.obsState?.programScene === 'Offline', "alice's program to go Offline", 30_000, 100);
    timings.aliceOfflineMs = Date.now() - killedAt;
    await new Promise((r) => setTimeout(r, 3000));
    const bobScenes = (watch.get('bob')?.obsStates ?? []).filter((s) => s.receivedAt >= killedAt).map((s) => s.programScene);
    assert(bobScenes.length > 0 && bobScenes.every((s) => s === 'Live'), `bob's program since the kill: ${bobScenes.join(', ')}`);
  });

  await check(
    "HTTPS: each streamer's password opens only their own dashboard (own port); a session of bob's is refused by alice's; the operator's on 443",
    async () => {
      const bobPassword = state().streams.bob?.dashboardPassword as string;
      for (const port of [HTTPS_PORT, HTTPS_PORT + 1])
        await waitFor(
          async () => (await fetch(`https://localhost:${port}/login`).catch(() => undefined))?.ok,
          `the dashboard on ${port} to answer`,
          90_000,
          500,
        );
      const bobLogin = await login(HTTPS_PORT + 1, bobPassword);
      assert(bobLogin.status === 200, `bob's login on bob's dashboard: HTTP ${bobLogin.status}`);
      const bobCookie = (bobLogin.headers.get('set-cookie') ?? '').split(';')[0] as string;
      assert(/^irlkit_session_bob=/.test(bobCookie), `bob's cookie: ${bobCookie}`);
      assert((await login(HTTPS_PORT, bobPassword)).status === 401, "bob's password on alice's dashboard is not refused");
      assert((await login(HTTPS_PORT + 1, 'alice-own-password')).status === 401, "alice's password on bob's dashboard is not refused");
      const own = await fetch(`https://localhost:${HTTPS_PORT + 1}/api/events`, { headers: { cookie: bobCookie } });
      assert(own.status === 200, `bob's events with bob's session: HTTP ${own.status}`);
      await own.body?.cancel();
      const token = bobCookie.slice(bobCookie.indexOf('=') + 1);
      for (const cookie of [bobCookie, `irlkit_session_alice=${token}`, `irlkit_session=${token}`]) {
        const answer = await fetch(`https://localhost:${HTTPS_PORT}/api/events`, { headers: { cookie } });
        assert(answer.status === 401, `alice's events with ${cookie.slice(0, cookie.indexOf('='))} of bob's: HTTP ${answer.status}`);
        await answer.body?.cancel();
      }
      // The main door is the operator's: bob's password refused, the operator's lists both streams.
      assert((await login(443, bobPassword)).status === 401, "bob's password on the operator dashboard is not refused");
      const operator = await login(443, state().operator.dashboardPassword);
      assert(operator.status === 200, `the operator's login: HTTP ${operator.status}`);
      const operatorCookie = (operator.headers.get('set-cookie') ?? '').split(';')[0] as string;
      await waitFor(
        async () => {
          const body = (await (await fetch('https://localhost/api/operator/streams', { headers: { cookie: operatorCookie } })).json()) as {
            streams: Array<{ id: string; switcher?: { state: string } }>;
          };
          const stateOf = (id: string) => body.streams.find((s) => s.id === id)?.switcher?.state;
          return stateOf('alice') === 'offline' && stateOf('bob') === 'live';
        },
        'the operator dashboard to list alice Offline and bob Live',
        20_000,
        500,
      );
    },
  );

  await check("NATS: bob's dashboard user hears and commands bob, and nats-server refuses it alice's events and commands", async () => {
    const bobNats = state().streams.bob?.nats.dashboard as string;
    const onBob = await probe('bob', 'dashboard@bob', bobNats);
    const onAlice = await probe('alice', 'dashboard@bob', bobNats);
    await waitFor(() => onBob.obsState !== undefined, "bob's obs.state to reach bob's user", 20_000, 200);
    const refused = await onAlice.request('stream.start');
    assert(!refused.ok, `stream.start on alice as bob's user answered ${JSON.stringify(refused)}`);
    const allowed = await onBob.request('stream.start');
    assert(allowed.ok, `stream.start on bob as bob's user: ${JSON.stringify(allowed)}`);
    await waitFor(() => watch.get('bob')?.obsState?.streaming === true, "bob's OBS to stream after bob's own command", 30_000, 200);
    await new Promise((r) => setTimeout(r, 3000));
    assert(onAlice.obsState === undefined && onAlice.obsStates.length === 0, "bob's user heard alice's obs.state");
    assert(!(watch.get('alice')?.obsStates ?? []).some((s) => s.streaming), "alice's OBS started streaming on bob's command");
    assert((await onBob.request('stream.stop')).ok, "stream.stop on bob as bob's user failed");
  });

  await check('a third stream (carol) added at runtime goes Live, and no container of alice, bob, nats or ingest is re-created or restarted', async () => {
    const untouched = [...streamContainers('alice'), ...streamContainers('bob'), 'nats', 'ingest'];
    const before = Object.fromEntries(untouched.map((service) => [service, container(service)]));
    const addedAt = Date.now();
    const applied = await composeStreams([...streams, carol]);
    assert(applied.status === 0, `compose-streams exited ${applied.status}:\n${applied.output.slice(-3000)}`);
    timings.applyThirdMs = Date.now() - addedAt;
    const changed = untouched.filter((service) => container(service) !== before[service]);
    assert(changed.length === 0, `re-created or restarted: ${changed.map((s) => `${s} ${before[s]} → ${container(s)}`).join('; ')}`);
    for (const service of streamContainers('carol')) assert(container(service).includes(' running '), `${service}: ${container(service)}`);
    watch.set('carol', await probe('carol', 'operator', state().operator.natsPassword));
    await lowerThresholds(watch.get('carol') as BusProbe);
    feeds.push(feed(carol));
    try {
      await waitFor(() => live(watch.get('carol')), "carol's program on Live", 240_000, 200);
    } catch (error) {
      const carolFeed = feeds.at(-1);
      throw new Error(
        `${(error as Error).message} (carol: ${watch.get('carol')?.obsState?.programScene ?? 'no obs.state heard'}; carol's sender, call ${carolFeed?.starts}: ${carolFeed?.current().stderr().slice(-300)})\n` +
          logsOf(['ingest', 'desktop-carol', 'obs-bridge-carol']),
      );
    }
    timings.carolLiveMs = Date.now() - addedAt;
    const bobScenes = (watch.get('bob')?.obsStates ?? []).filter((s) => s.receivedAt >= addedAt).map((s) => s.programScene);
    assert(
      bobScenes.every((s) => s === 'Live'),
      `bob's program while carol was added: ${bobScenes.join(', ')}`,
    );
    const stillSame = untouched.filter((service) => container(service) !== before[service]);
    assert(stillSame.length === 0, `re-created or restarted while carol started: ${stillSame.join(', ')}`);
  });
} catch (error) {
  process.stdout.write(`  stopped: ${(error as Error).message}\n`);
  results.push({ name: 'the streams checks ran to the end', ok: false });
} finally {
  await Promise.all(feeds.map((f) => f.stop()));
  await Promise.all(probes.map((p) => p.stop()));
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
process.stdout.write(`\ncompose streams checks: ${passed} passed, ${failed} failed; timings ${JSON.stringify(timings)}\n`);
if (process.env.IRL_COMPOSE_RESULT) writeFileSync(process.env.IRL_COMPOSE_RESULT, `${passed} ${failed} 0\n${JSON.stringify(timings)}\n`);
process.exit(failed ? 1 : 0);
