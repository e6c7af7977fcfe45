// A streamer added to and removed from IRL_STREAMS's file while the native runner (`./irlkit up`) runs and
// another streamer is Live: the new stream's dashboard answers with the password the runner printed, its
// sender gets through and its services log in to NATS (users added to nats-server by a reload); removed,
// its processes stop. The operator's page lists the streams of the list in force (carol comes and goes there
// too). The Live streamer's processes (ingest, her OBS's desktop, bridge, dashboard, xpra) keep their PIDs and
// her switcher stays Live throughout.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bus, connectNats, type IngestStats, type SwitcherState, silentLogger } from '@irlkit/shared';
import { expect, it } from 'vitest';
import type { StreamOverview } from '../services/dashboard/lib/operator/overview.ts';
import { portsEnv, runnerPorts, SMALL_STREAMS_ENV, startReconnectingFeed, startRunner, startSrtFeed, waitFor } from './kit/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The PIDs the runner started its children with, by name ("child started" lines of its log). */
const childPids = (out: string) => {
  const pids = new Map<string, number[]>();
  for (const match of out.matchAll(/"child":"([^"]+)","pid":(\d+),"msg":"child started"/g)) {
    pids.set(match[1] as string, [...(pids.get(match[1] as string) ?? []), Number(match[2])]);
  }
  return pids;
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('adds carol to the streams file and removes her again while alice is Live: carol answers and gets through, alice keeps every PID and stays Live', async () => {
  // The runner serves the dashboard's production build (`./irlkit up` makes it); make it when it is missing.
  const dashboardDir = join(root, 'services/dashboard');
  if (!existsSync(join(dashboardDir, '.next/BUILD_ID'))) {
    const build = spawnSync('npx', ['next', 'build'], { cwd: dashboardDir, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`dashboard build failed:\n${build.stdout}\n${build.stderr}`);
  }
  const stateDir = mkdtempSync(join(tmpdir(), 'irlkit-reload-'));
  const streamsFile = join(stateDir, 'streams.json');
  const ports = await runnerPorts();
  const key = (id: string) => `${id}-${Math.random().toString(36).slice(2, 10)}`;
  const alice = { id: 'alice', srtKey: key('alice'), dashboardPassword: 'alice-own-password' };
  const carol = { id: 'carol', srtKey: key('carol') };
  const writeStreams = (streams: object[]) => {
    writeFileSync(`${streamsFile}.new`, JSON.stringify(streams, null, 2));
    renameSync(`${streamsFile}.new`, streamsFile);
  };
  writeStreams([alice]);
  const runner = startRunner({
    ...portsEnv(ports),
    IRL_STATE_DIR: stateDir,
    IRL_PUBLIC_HOST: '127.0.0.1',
    IRL_ENV_FILE: '/nonexistent',
    IRL_STREAMS: streamsFile,
    ...SMALL_STREAMS_ENV,
  });
  const out = () => runner.output();
  const sender = (stream: { srtKey: string }) => ({
    port: ports.SRT_PORT,
    streamId: `live_${stream.srtKey}`,
    latencyMs: 500,
    bitrateKbps: 600,
    width: 426,
    height: 240,
  });
  const feed = (stream: { srtKey: string }) => startSrtFeed(sender(stream));
  // Alice's sender is up before the runner: like a phone, it calls again until ingest answers (one ffmpeg
  // call gives up after 3 s, less than a cold first start of the runner may take).
  const aliceFeed = startReconnectingFeed(sender(alice));
  let carolFeed: ReturnType<typeof feed> | undefined;
  let nc: Awaited<ReturnType<typeof connectNats>> | undefined;
  try {
    await runner.explain(async () => {
      await waitFor(() => out().includes('irlkit is running'), 'the runner to print that it is running', 90_000);
      // One stream: the operator's dashboard takes the port after alice's.
      const operatorPort = ports.DASHBOARD_PORT + 1;
      expect(out()).toContain(`Operator   http://127.0.0.1:${operatorPort}`);
      const secrets = () => readFileSync(join(stateDir, 'secrets.env'), 'utf8');
      const operatorPassword = /NATS_OPERATOR_PASSWORD=(\S+)/.exec(secrets())?.[1];
      nc = await connectNats({ url: `nats://127.0.0.1:${ports.NATS_PORT}`, user: 'operator', password: operatorPassword, name: 'reload-test' }, silentLogger());
      const states = new Map<string, SwitcherState>();
      const stats = new Map<string, IngestStats>();
      const heardFrom = new Map<string, Set<string>>();
      for (const id of ['alice', 'carol']) {
        const bus = new Bus(nc, id, silentLogger());
        bus.subscribe('switcher.state', (state) => states.set(id, state));
        bus.subscribe('ingest.stats', (s) => stats.set(id, s));
        bus.subscribe('heartbeat', (beat) => heardFrom.set(id, new Set([...(heardFrom.get(id) ?? []), beat.service])));
      }
      await waitFor(
        () => states.get('alice')?.state === 'live',
        () => `alice Live (${states.get('alice')?.state}: ${states.get('alice')?.reason})`,
        150_000,
        500,
      );
      const aliceLiveSince = states.get('alice')?.since as number;
      const aliceChildren = ['ingest', 'desktop-alice', 'obs-bridge-alice', 'dashboard-alice', 'xpra-alice', 'nats'];
      // The operator's page: logged in once; the session outlives its dashboard's restarts when the list changes.
      const operatorUrl = `http://127.0.0.1:${operatorPort}`;
      await waitFor(async () => (await fetch(`${operatorUrl}/login`).catch(() => undefined))?.ok, 'the operator dashboard to answer', 90_000, 500);
      const operatorLogin = await fetch(`${operatorUrl}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: operatorUrl },
        body: JSON.stringify({ password: /^OPERATOR_DASHBOARD_PASSWORD=(\S+)/m.exec(secrets())?.[1] }),
      });
      expect(operatorLogin.status, 'the operator login').toBe(200);
      const operatorCookie = (operatorLogin.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const operatorLists = async () => {
        const answer = await fetch(`${operatorUrl}/api/operator/streams`, { headers: { cookie: operatorCookie } }).catch(() => undefined);
        if (!answer?.ok) return undefined;
        return ((await answer.json()) as { streams: StreamOverview[] }).streams.map((stream) => stream.id).join(',');
      };
      expect(await operatorLists()).toBe('alice');
      // Wait until alice's children have settled (a dashboard may restart once while NATS comes up).
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${ports.DASHBOARD_PORT}/login`).catch(() => undefined))?.ok,
        "alice's dashboard to answer",
        90_000,
        500,
      );
      const pidsBefore = childPids(out());
      for (const name of aliceChildren.filter((n) => n !== 'xpra-alice')) expect(pidsBefore.get(name), `${name} started`).toBeDefined();

      // Carol is added: the runner prints her dashboard and password; her dashboard answers, her sender gets through.
      const addedAt = Date.now();
      writeStreams([alice, carol]);
      await waitFor(() => out().includes('added carol; removed none'), 'the runner to say carol was added', 30_000);
      const carolPassword = /^STREAM_carol_DASHBOARD_PASSWORD=(\S+)/m.exec(secrets())?.[1] as string;
      expect(carolPassword, "carol's generated password in secrets.env").toBeTruthy();
      // Slot 1 is past the streams the runner started with: carol's dashboard skips the operator's port.
      const carolDashboard = `http://127.0.0.1:${ports.DASHBOARD_PORT + 2}`;
      expect(out()).toContain(`Stream carol: dashboard ${carolDashboard} (password ${carolPassword})`);
      // Ingest follows the runner's copy of the list, each stream's ports pinned to its slot (a restarted ingest keeps them).
      const ingestList = () =>
        JSON.parse(readFileSync(join(stateDir, 'ingest-streams.json'), 'utf8')) as { id: string; relayPort: number; outputPort: number }[];
      expect(ingestList().map((s) => [s.id, s.relayPort, s.outputPort])).toEqual([
        ['alice', ports.INGEST_RELAY_PORT, ports.INGEST_OUTPUT_PORT],
        ['carol', ports.INGEST_RELAY_PORT + 2, ports.INGEST_OUTPUT_PORT + 2],
      ]);
      carolFeed = feed(carol);
      await waitFor(() => stats.get('carol')?.connected, "carol's sender through ingest (on carol's subjects)", 20_000, 200);
      await waitFor(async () => (await fetch(`${carolDashboard}/login`).catch(() => undefined))?.ok, "carol's dashboard to answer", 90_000, 500);
      const login = await fetch(`${carolDashboard}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: carolDashboard },
        body: JSON.stringify({ password: carolPassword }),
      });
      expect(login.status, "carol's printed password on her dashboard").toBe(200);
      // Her services log in to NATS as her own users, which nats-server took in by a reload.
      await waitFor(() => heardFrom.get('carol')?.has('obs-bridge'), "carol's obs-bridge on NATS as obs-bridge@carol", 30_000, 200);
      await waitFor(async () => (await operatorLists()) === 'alice,carol', 'the operator page to list alice and carol', 30_000, 500);
      process.stdout.write(`runner reload: carol's dashboard answered ${Date.now() - addedAt} ms after the file changed\n`);
      const carolPids = [...childPids(out())].filter(([name]) => name.endsWith('-carol')).flatMap(([, pids]) => pids);
      expect(carolPids.length, "carol's children").toBeGreaterThanOrEqual(3);

      // A bad file is refused, naming the stream and field; nothing stops or starts.
      writeStreams([alice, { ...carol, id: 'alice' }]);
      await waitFor(() => out().includes('refused (file changed); the 2 streams running stay as they are'), 'the runner to refuse the bad file', 30_000);
      expect(out()).toContain('  stream 2 id: stream id "alice" is used twice');

      // Carol is removed: her processes stop, her dashboard stops answering; alice never noticed.
      writeStreams([alice]);
      await waitFor(() => out().includes('added none; removed carol'), 'the runner to say carol was removed', 30_000);
      await waitFor(() => carolPids.every((pid) => !alive(pid)), "carol's processes to end", 20_000);
      expect(await fetch(`${carolDashboard}/login`).catch(() => 'refused')).toBe('refused');
      await waitFor(() => stats.get('carol')?.connected === false || carolFeed?.process.exitCode !== null, "carol's sender cut off", 15_000, 200);

      expect(ingestList().map((s) => s.id)).toEqual(['alice']);
      // The operator's page lists alice only again (its dashboard started with the new list).
      await waitFor(async () => (await operatorLists()) === 'alice', 'the operator page to list alice only', 30_000, 500);
      const pidsAfter = childPids(out());
      for (const name of aliceChildren.filter((n) => pidsBefore.has(n))) {
        expect(pidsAfter.get(name), `${name}: not started again`).toEqual(pidsBefore.get(name));
        expect(alive(pidsBefore.get(name)?.at(-1) as number), `${name} still running`).toBe(true);
      }
      expect(states.get('alice')?.state, "alice's switcher").toBe('live');
      expect(states.get('alice')?.since, 'alice Live since before carol came').toBe(aliceLiveSince);
      expect(stats.get('alice')?.connected, "alice's sender").toBe(true);
    });
  } finally {
    await nc?.close();
    await Promise.all([aliceFeed.stop(), carolFeed?.stop()]);
    expect(await runner.stop()).toBe(0);
  }
  expect(out()).toContain('irlkit: stopped');
  expect(spawnSync('pgrep', ['-f', stateDir], { encoding: 'utf8' }).stdout.trim()).toBe('');
}, 400_000);
