// The Swarm stack checked on a real single-node swarm (run by test/swarm/run.sh after `docker stack deploy`):
// the three NATS nodes routed into one cluster, a feed from a container on the stack's overlay network
// going Live on OBS, the switcher's settings bucket kept on all three nodes, then the bucket's leader
// node killed (and held down): the stream still switches (feed stopped → Offline, back → Live), settings
// are still written and read, and the node rejoins when it is back.
// Prints one line per check and writes "passed failed skipped" to $IRL_SWARM_RESULT.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from '@irlkit/test-kit';
import { bundle } from '../../scripts/build-services.ts';
import { testPatternArgs } from '../../scripts/test-pattern.ts';
import { BusProbe } from '../compose/probe.ts';

const root = resolve(import.meta.dirname, '../..');
const need = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`swarm.check.ts: ${name} must be set (run test/swarm/run.sh)`);
  return value;
};
const stack = need('IRL_SWARM_STACK');
const network = `${stack}_default`;
const natsUrl = 'nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222';
const bridgeImage = need('IRL_BRIDGE_IMAGE');
/** ffmpeg with SRT (Debian's): the restream image's. */
const feedImage = need('IRL_FEED_IMAGE');
const generated = Object.fromEntries(
  readFileSync(need('IRL_SWARM_SECRETS_FILE'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
) as Record<string, string | undefined>;
const secret = (name: string): string => {
  const value = generated[name];
  if (!value) throw new Error(`swarm.check.ts: secrets.sh generated no ${name}`);
  return value;
};

const DOCKER = '/usr/bin/docker';
function docker(args: string[], timeoutMs = 60_000) {
  const result = spawnSync(DOCKER, args, { cwd: root, encoding: 'utf8', timeout: timeoutMs });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}
function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
/** The running container of a stack service (this node's). */
function containerOf(service: string): string | undefined {
  return (
    docker(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${stack}_${service}`, '--filter', 'status=running'])
      .stdout.trim()
      .split('\n')[0] || undefined
  );
}
/** A NATS node's routes (the other nodes' addresses), from its monitoring port (its container's loopback). */
function routesOf(node: string): string[] {
  const container = containerOf(node);
  if (!container) return [];
  const report = docker(['exec', container, 'curl', '-fsS', 'http://127.0.0.1:8222/routez']).stdout;
  try {
    return ((JSON.parse(report) as { routes?: Array<{ ip?: string }> }).routes ?? []).map((r) => r.ip ?? '?');
  } catch {
    return [];
  }
}

/** waitFor, with a message made when it times out (the state then, not at the start). */
async function until<T>(condition: () => T | undefined | false | null, what: () => string, timeoutMs: number, intervalMs: number): Promise<T> {
  try {
    return await waitFor(condition, 'the condition', timeoutMs, intervalMs);
  } catch {
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
  }
}

const results: Array<{ name: string; ok: boolean }> = [];
async function check(name: string, body: () => Promise<void>): Promise<boolean> {
  const started = Date.now();
  const took = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  try {
    await body();
    results.push({ name, ok: true });
    process.stdout.write(`  ✓ ${name} (${took()})\n`);
    return true;
  } catch (error) {
    results.push({ name, ok: false });
    process.stdout.write(
      `  ✗ ${name} (${took()})\n    ${String((error as Error).message)
        .split('\n')
        .join('\n    ')}\n`,
    );
    return false;
  }
}

// The settings reader runs compiled, like the probe, in a container of the obs-bridge image as obs-bridge's user.
const compiledDir = mkdtempSync(join(tmpdir(), 'irlkit-swarm-check-'));
await bundle(join(root, 'test/swarm/settings-read.ts'), join(compiledDir, 'settings-read.js'));
chmodSync(compiledDir, 0o755);
interface SettingsRead {
  error?: string;
  server?: string;
  connectedInMs?: number;
  values?: Record<string, unknown>;
  replicas?: number;
  leader?: string;
  peers?: Array<{ name: string; current: boolean }>;
}
function readSettings(): SettingsRead {
  const out = docker(
    [
      'run',
      '--rm',
      '--network',
      network,
      '--dns',
      '127.0.0.1',
      '-e',
      `NATS_URL=${natsUrl}`,
      '-e',
      'NATS_USER=obs-bridge',
      '-e',
      `NATS_PASSWORD=${secret('NATS_OBS_BRIDGE_PASSWORD')}`,
      '-v',
      `${compiledDir}:/probe:ro`,
      '--entrypoint',
      'node',
      bridgeImage,
      '/probe/settings-read.js',
    ],
    90_000,
  );
  try {
    return JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '') as SettingsRead;
  } catch {
    return { error: `no answer (exit ${out.status}): ${out.stderr.slice(-300)}` };
  }
}

// The sender: the test pattern over SRT from a container on the stack's network to ingest's service name.
const feedName = `${stack}-feed`;
function startFeed(): void {
  docker(['rm', '-f', feedName]);
  const args = testPatternArgs({ host: 'ingest', port: 9000, passphrase: secret('SRT_PASSPHRASE'), bitrateKbps: 1500 });
  const started = docker(['run', '-d', '--name', feedName, '--network', network, '--dns', '127.0.0.1', '--entrypoint', 'ffmpeg', feedImage, ...args]);
  assert(started.status === 0, `the feed container did not start: ${started.stderr}`);
}
function stopFeed(): void {
  docker(['rm', '-f', feedName]);
}
const feedLog = () => docker(['logs', '--tail', '5', feedName]).stderr.trim();

const probe = await BusProbe.start({
  project: stack,
  network,
  natsUrl,
  root,
  natsUser: 'operator',
  natsPassword: secret('NATS_OPERATOR_PASSWORD'),
  bridgeImage,
});
const scene = () => (probe.obsState?.reachable ? probe.obsState.programScene : 'OBS unreachable');
let killed: string | undefined;
try {
  await check('every container: no capabilities, a read-only root, a memory limit, no generated secret in its configuration', async () => {
    const ids = docker(['ps', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`])
      .stdout.trim()
      .split('\n')
      .filter(Boolean);
    assert(ids.length === 11, `${ids.length} running containers of the stack, not 11`);
    const inspected = JSON.parse(docker(['inspect', ...ids]).stdout) as Array<{
      Name: string;
      Config: { Env: string[] };
      HostConfig: { CapDrop: string[] | null; CapAdd: string[] | null; ReadonlyRootfs: boolean; Memory: number };
    }>;
    const values = Object.values(generated).filter((v): v is string => Boolean(v && v.length >= 16));
    const problems = inspected.flatMap((c) => [
      ...(c.HostConfig.CapDrop?.includes('ALL') && !c.HostConfig.CapAdd?.length
        ? []
        : [`${c.Name}: capabilities ${JSON.stringify([c.HostConfig.CapDrop, c.HostConfig.CapAdd])}`]),
      ...(c.HostConfig.ReadonlyRootfs ? [] : [`${c.Name}: writable root`]),
      ...(c.HostConfig.Memory > 0 ? [] : [`${c.Name}: no memory limit`]),
      ...(c.Config.Env.some((e) => values.some((v) => e.includes(v))) ? [`${c.Name}: a generated secret in its environment`] : []),
    ]);
    assert(problems.length === 0, problems.join('; '));
  });

  await check("ingest's passphrase-less output (9001/tcp) listens only on its address on the feed network (10.231.0.0/24)", async () => {
    const ingest = containerOf('ingest');
    assert(ingest, 'no running ingest container');
    // /proc/net/tcp: local address in little-endian hex, so 10.231.x.y ends in E70A; 9001 is 2329; state 0A listens.
    const bound = docker(['exec', ingest, 'cat', '/proc/net/tcp'])
      .stdout.split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[3] === '0A')
      .map((fields) => fields[1] ?? '')
      .filter((local) => local.endsWith(':2329'));
    assert(bound.length > 0 && bound.every((local) => /^[0-9A-F]{4}E70A:2329$/.test(local)), `9001 bound to ${bound.join(', ') || 'nothing'}`);
  });

  await check('the three NATS nodes form one cluster (each routes to the other two)', async () => {
    await until(
      () => ['nats-1', 'nats-2', 'nats-3'].every((node) => new Set(routesOf(node)).size >= 2),
      () => `every node routed to both others (routes: ${['nats-1', 'nats-2', 'nats-3'].map((n) => `${n} → ${routesOf(n).join('+') || 'none'}`).join('; ')})`,
      60_000,
      1000,
    );
  });

  await check('an SRT feed from a container on the overlay network goes Live on OBS (obs.state: program scene Live)', async () => {
    startFeed();
    await until(
      () => probe.obsState?.reachable && probe.obsState.programScene === 'Live',
      () => `program scene Live (last: ${scene()}; feed: ${feedLog()})`,
      180_000,
      200,
    );
  });

  await check("the switcher's settings bucket is kept on all three NATS nodes (R3, every replica current)", async () => {
    let last: SettingsRead = {};
    await until(
      () => {
        last = readSettings();
        return last.replicas === 3 && last.peers?.length === 2 && last.peers.every((p) => p.current);
      },
      () => `an R3 bucket with two current followers (last read: ${JSON.stringify(last)})`,
      60_000,
      2000,
    );
  });

  await check("killing the settings bucket's leader node (docker kill, held down) leaves the cluster to the other two", async () => {
    const leader = readSettings().leader;
    assert(leader && /^nats-[123]$/.test(leader), `no leader named in the bucket's cluster info (${JSON.stringify(readSettings())})`);
    const container = containerOf(leader);
    assert(container, `no running container of ${leader}`);
    // Who loses their server with it (reconnecting to the two others): the services connected there.
    const connz = docker(['exec', container, 'curl', '-fsS', 'http://127.0.0.1:8222/connz?auth=true']).stdout;
    const clients = (() => {
      try {
        return ((JSON.parse(connz) as { connections?: Array<{ authorized_user?: string }> }).connections ?? []).map((c) => c.authorized_user ?? '?');
      } catch {
        return [];
      }
    })();
    const kill = docker(['kill', container]);
    assert(kill.status === 0, `docker kill ${container}: ${kill.stderr}`);
    // Then held down for the checks that follow: Swarm would start it again 2 s later (restart_policy).
    const scaled = docker(['service', 'scale', '--detach', `${stack}_${leader}=0`]);
    assert(scaled.status === 0, `docker service scale ${leader}=0: ${scaled.stderr}`);
    killed = leader;
    process.stdout.write(
      `    killed ${leader} (container ${container.slice(0, 12)}), the bucket's leader, with its clients: ${clients.join(', ') || 'none'}\n`,
    );
    const others = ['nats-1', 'nats-2', 'nats-3'].filter((n) => n !== leader);
    await until(
      () => !containerOf(leader),
      () => `${leader}'s container gone`,
      30_000,
      500,
    );
    await until(
      () => others.every((n) => routesOf(n).length === 1),
      () => `the two others routed only to each other (${others.map((n) => `${n} → ${routesOf(n).join('+')}`).join('; ')})`,
      30_000,
      500,
    );
  });

  await check('with a NATS node down: the feed stopped → Offline on program, back → Live', async () => {
    assert(killed, 'no node was killed');
    await until(
      () => probe.obsState?.programScene === 'Live',
      () => `Live before the switch (now: ${scene()})`,
      60_000,
      200,
    );
    stopFeed();
    await until(
      () => probe.obsState?.reachable && probe.obsState.programScene === 'Offline',
      () => `program scene Offline after the feed stopped (now: ${scene()})`,
      60_000,
      200,
    );
    startFeed();
    await until(
      () => probe.obsState?.reachable && probe.obsState.programScene === 'Live',
      () => `program scene Live after the feed returned (now: ${scene()}; feed: ${feedLog()})`,
      120_000,
      200,
    );
  });

  await check('with a NATS node down: switcher.config is saved to the replicated bucket and read back from it', async () => {
    const reply = await probe.request('switcher.config', { lowEnterKbps: 650 });
    assert(reply.ok, `switcher.config refused: ${reply.error}`);
    let last: SettingsRead = {};
    await until(
      () => {
        last = readSettings();
        return JSON.stringify(last.values ?? {}).includes('"lowEnterKbps":650');
      },
      () => `lowEnterKbps 650 in the bucket (last read: ${JSON.stringify(last)})`,
      180_000,
      1000,
    );
    assert(last.leader && last.leader !== killed, `the bucket's leader is ${last.leader}, the killed node`);
    process.stdout.write(`    read through ${last.server} (a new client, connected in ${last.connectedInMs} ms); the bucket's leader now ${last.leader}\n`);
  });

  await check('the killed node, started again, rejoins the cluster and catches up (every replica current)', async () => {
    assert(killed, 'no node was killed');
    const scaled = docker(['service', 'scale', '--detach', `${stack}_${killed}=1`]);
    assert(scaled.status === 0, `docker service scale ${killed}=1: ${scaled.stderr}`);
    await until(
      () => new Set(routesOf(killed as string)).size >= 2,
      () => `${killed} routed to both others again`,
      90_000,
      1000,
    );
    let last: SettingsRead = {};
    await until(
      () => {
        last = readSettings();
        return last.peers?.length === 2 && last.peers.every((p) => p.current) && JSON.stringify(last.values ?? {}).includes('"lowEnterKbps":650');
      },
      () => `every replica current, the setting kept (last read: ${JSON.stringify(last)})`,
      90_000,
      2000,
    );
  });
} finally {
  stopFeed();
  await probe.stop();
  rmSync(compiledDir, { recursive: true, force: true });
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
process.stdout.write(`\nswarm checks: ${passed} passed, ${failed} failed\n`);
if (process.env.IRL_SWARM_RESULT) writeFileSync(process.env.IRL_SWARM_RESULT, `${passed} ${failed} 0\n`);
